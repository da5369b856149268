package awstest_test

import (
	"os"
	"testing"

	"github.com/sellerauth/sellerauth/internal/awstest"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }
