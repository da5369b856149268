package refresh

import "time"

// ReauthorizationReminders are the days before reauthorize_by at which the app hears that the
// seller must authorize again (Amazon's 365-day rule): one Connection Reauthorization Due event
// each, per authorization.
var ReauthorizationReminders = []int{30, 7, 1}

// reminderWindow is how long after crossing a reminder's threshold the refresh job still notes it.
// Every active token is refreshed every 35-40 minutes, so a day leaves room for an outage of the
// job; bounding it keeps the conditional write, which fails once the reminder is noted, to a few
// dozen per reminder instead of one per refresh for 30 days (the index does not project the
// reminder already sent).
const reminderWindow = 24 * time.Hour

// ReminderDue says which reminder, if any, a refresh at now should note for an authorization
// due for renewal by reauthorizeBy: the closest threshold crossed within the last reminderWindow.
// The 1-day reminder's window runs to the deadline itself.
func ReminderDue(reauthorizeBy, now time.Time) (int, bool) {
	if reauthorizeBy.IsZero() {
		return 0, false
	}
	left := reauthorizeBy.Sub(now)
	if left <= 0 {
		return 0, false
	}
	for i := len(ReauthorizationReminders) - 1; i >= 0; i-- {
		days := ReauthorizationReminders[i]
		threshold := time.Duration(days) * 24 * time.Hour
		if left <= threshold && left > threshold-reminderWindow {
			return days, true
		}
	}
	return 0, false
}
