package printers

import (
	"fmt"
	"time"
)

// HumanDuration renders d with two or three significant figures, as
// kubectl's AGE column does. It follows the rules of Kubernetes'
// k8s.io/apimachinery/pkg/util/duration.HumanDuration:
//
//	d < -1s        "<invalid>" (clock skew beyond tolerance)
//	-1s <= d < 0   "0s"
//	< 2m           "Ns"        (119s)
//	< 10m          "NmSs", "Nm" when S is 0 (3m20s, 5m)
//	< 3h           "Nm"        (179m)
//	< 8h           "NhMm", "Nh" when M is 0 (5h30m)
//	< 48h          "Nh"        (47h)
//	< 8d           "NdHh", "Nd" when H is 0 (2d3h)
//	< 2y           "Nd"        (729d)
//	< 8y           "NyDd", "Ny" when D is 0 (a year is 365 days)
//	otherwise      "Ny"
func HumanDuration(d time.Duration) string {
	// Kubernetes tolerates up to (but excluding) 2s of skew between the
	// clocks of the client and the server: "almost now" prints as 0s.
	seconds := int(d.Seconds())
	switch {
	case seconds < -1:
		return "<invalid>"
	case seconds < 0:
		return "0s"
	case seconds < 60*2:
		return fmt.Sprintf("%ds", seconds)
	}
	minutes := int(d / time.Minute)
	if minutes < 10 {
		return withRemainder(minutes, "m", seconds%60, "s")
	}
	if minutes < 60*3 {
		return fmt.Sprintf("%dm", minutes)
	}
	hours := int(d / time.Hour)
	switch {
	case hours < 8:
		return withRemainder(hours, "h", minutes%60, "m")
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	case hours < 24*8:
		return withRemainder(hours/24, "d", hours%24, "h")
	case hours < 24*365*2:
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*8:
		return withRemainder(hours/24/365, "y", (hours/24)%365, "d")
	}
	return fmt.Sprintf("%dy", hours/24/365)
}

// withRemainder prints "3m20s", or "3m" when the remainder is zero.
func withRemainder(major int, majorUnit string, minor int, minorUnit string) string {
	if minor == 0 {
		return fmt.Sprintf("%d%s", major, majorUnit)
	}
	return fmt.Sprintf("%d%s%d%s", major, majorUnit, minor, minorUnit)
}
