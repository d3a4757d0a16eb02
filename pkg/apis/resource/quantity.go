// Package resource implements Quantity, the fixed-point number Kubernetes
// uses for resource amounts ("500m" CPUs, "128Mi" bytes). It parses the
// Kubernetes syntax, compares and adds exactly, and prints the canonical
// form Kubernetes prints, so a manifest read back from minik8s shows the
// same strings kubectl users expect.
//
// A Quantity is an immutable value (Add and Sub change only the receiver
// they are called on); the zero Quantity is 0. The package is pure: no I/O.
package resource

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Format says how a Quantity prints: the suffix family it was written in.
type Format string

// Formats, as in Kubernetes.
const (
	DecimalExponent Format = "DecimalExponent" // 1e3, 12e-3
	BinarySI        Format = "BinarySI"        // Ki, Mi, Gi, ... (powers of 1024)
	DecimalSI       Format = "DecimalSI"       // n, u, m, k, M, G, ... (powers of 1000)
)

// Errors returned by ParseQuantity, worded as Kubernetes words them.
var (
	ErrFormatWrong = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	ErrNumeric     = errors.New("unable to parse quantity's numeric value")
	ErrSuffix      = errors.New("unable to parse quantity's suffix")
)

// maxExponent bounds decimal exponents so that "1e999999999" is an error
// instead of a gigabyte-sized integer. Kubernetes accepts larger exponents;
// no real resource amount comes near 10^100.
const maxExponent = 100

var (
	bigNano    = big.NewInt(1e9) // nanos per unit
	bigMaxInt  = big.NewInt(math.MaxInt64)
	bigMinInt  = big.NewInt(math.MinInt64)
	bigTen     = big.NewInt(10)
	bigOneK    = big.NewInt(1024)
	bigMillion = big.NewInt(1e6) // nanos per milli-unit
)

// Quantity is an exact amount with nano precision, and the format it was
// written in. Invariant: nanos is nil (meaning 0) or never mutated after
// construction, so copies of a Quantity may share it.
type Quantity struct {
	nanos  *big.Int // the amount in units of 10^-9
	Format Format
}

// ParseQuantity parses s ("100m", "1.5Gi", "2e3", "-4"). Amounts finer than
// a nano are rounded up to the next nano (so a request for "a little"
// never becomes zero), and BinarySI amounts are capped at MaxInt64, as in
// Kubernetes.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, ErrFormatWrong
	}
	sign, digits, fracLen, suffix, err := splitQuantity(s)
	if err != nil {
		return Quantity{}, err
	}
	base, exp, format, err := parseSuffix(suffix)
	if err != nil {
		return Quantity{}, err
	}
	// value = digits * 10^-fracLen * base^exp, and we want it in nanos.
	num, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Quantity{}, ErrNumeric
	}
	den := big.NewInt(1)
	if base == 2 {
		num.Lsh(num, uint(exp))
		exp = 0
	}
	shift := exp + 9 - fracLen // power of ten to multiply num by
	switch {
	case shift >= 0:
		num.Mul(num, pow10(shift))
	case num.Sign() != 0 && -shift > len(digits)+1:
		num.SetInt64(1) // far below one nano: round up to one nano
	default:
		den = pow10(-shift)
	}
	// Round the magnitude up to whole nanos.
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if format == BinarySI {
		if q.Cmp(new(big.Int).Mul(bigMaxInt, bigNano)) > 0 {
			q.Mul(bigMaxInt, bigNano)
		}
		if q.Sign() > 0 && q.Cmp(bigNano) < 0 {
			format = DecimalSI // "0.5Ki" is 512, but "0.0001Ki" is shown in m
		}
	}
	if sign < 0 {
		q.Neg(q)
	}
	return Quantity{nanos: q, Format: format}, nil
}

// MustParse is ParseQuantity for constants in code and tests; it panics on
// a malformed string.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(fmt.Sprintf("cannot parse %q: %v", s, err))
	}
	return q
}

// NewQuantity returns value units in the given format.
func NewQuantity(value int64, format Format) Quantity {
	n := big.NewInt(value)
	return Quantity{nanos: n.Mul(n, bigNano), Format: format}
}

// NewMilliQuantity returns value thousandths of a unit in the given format.
func NewMilliQuantity(value int64, format Format) Quantity {
	n := big.NewInt(value)
	return Quantity{nanos: n.Mul(n, bigMillion), Format: format}
}

// splitQuantity splits s into its sign, its digits without the decimal
// point, the number of digits after the point, and the suffix.
func splitQuantity(s string) (sign int, digits string, fracLen int, suffix string, err error) {
	sign = 1
	i := 0
	if s[0] == '+' || s[0] == '-' {
		if s[0] == '-' {
			sign = -1
		}
		i++
	}
	var b strings.Builder
	seenDot := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			if seenDot {
				fracLen++
			}
			continue
		case c == '.' && !seenDot:
			seenDot = true
			continue
		case c == '.':
			return 0, "", 0, "", ErrNumeric
		}
		break
	}
	if b.Len() == 0 {
		return 0, "", 0, "", ErrFormatWrong
	}
	suffix = s[i:]
	for _, c := range suffix {
		if !strings.ContainsRune("eEinumkKMGTP+-0123456789", c) {
			return 0, "", 0, "", ErrFormatWrong
		}
	}
	return sign, b.String(), fracLen, suffix, nil
}

// parseSuffix returns what a suffix multiplies by: base^exp.
func parseSuffix(s string) (base, exp int, format Format, err error) {
	switch s {
	case "":
		return 10, 0, DecimalSI, nil
	case "n":
		return 10, -9, DecimalSI, nil
	case "u":
		return 10, -6, DecimalSI, nil
	case "m":
		return 10, -3, DecimalSI, nil
	case "k":
		return 10, 3, DecimalSI, nil
	case "M":
		return 10, 6, DecimalSI, nil
	case "G":
		return 10, 9, DecimalSI, nil
	case "T":
		return 10, 12, DecimalSI, nil
	case "P":
		return 10, 15, DecimalSI, nil
	case "E":
		return 10, 18, DecimalSI, nil
	case "Ki":
		return 2, 10, BinarySI, nil
	case "Mi":
		return 2, 20, BinarySI, nil
	case "Gi":
		return 2, 30, BinarySI, nil
	case "Ti":
		return 2, 40, BinarySI, nil
	case "Pi":
		return 2, 50, BinarySI, nil
	case "Ei":
		return 2, 60, BinarySI, nil
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		e, err := strconv.Atoi(s[1:])
		if err != nil {
			return 0, 0, "", ErrSuffix
		}
		if e > maxExponent || e < -maxExponent {
			return 0, 0, "", fmt.Errorf("exponent %d out of range [-%d, %d]", e, maxExponent, maxExponent)
		}
		return 10, e, DecimalExponent, nil
	}
	return 0, 0, "", ErrSuffix
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

func (q Quantity) value() *big.Int {
	if q.nanos == nil {
		return new(big.Int)
	}
	return q.nanos
}

// IsZero says whether q is 0.
func (q Quantity) IsZero() bool { return q.value().Sign() == 0 }

// Sign returns -1, 0 or +1.
func (q Quantity) Sign() int { return q.value().Sign() }

// Cmp returns -1, 0 or +1 as q is less than, equal to or greater than o.
func (q Quantity) Cmp(o Quantity) int { return q.value().Cmp(o.value()) }

// Equal says whether q and o are the same amount, whatever their formats.
func (q Quantity) Equal(o Quantity) bool { return q.Cmp(o) == 0 }

// Add adds o to q. A zero q takes o's format, as in Kubernetes.
func (q *Quantity) Add(o Quantity) {
	if q.IsZero() {
		q.Format = o.Format
	}
	q.nanos = new(big.Int).Add(q.value(), o.value())
}

// Sub subtracts o from q. A zero q takes o's format.
func (q *Quantity) Sub(o Quantity) {
	if q.IsZero() {
		q.Format = o.Format
	}
	q.nanos = new(big.Int).Sub(q.value(), o.value())
}

// Neg negates q.
func (q *Quantity) Neg() { q.nanos = new(big.Int).Neg(q.value()) }

// Value returns q in whole units, rounded away from zero (so "100m" CPUs
// is 1), saturating at the int64 limits.
func (q Quantity) Value() int64 { return scaled(q.value(), bigNano) }

// MilliValue returns q in thousandths, rounded away from zero and
// saturating at the int64 limits.
func (q Quantity) MilliValue() int64 { return scaled(q.value(), bigMillion) }

func scaled(n, unit *big.Int) int64 {
	v, r := new(big.Int).QuoRem(n, unit, new(big.Int))
	if r.Sign() > 0 {
		v.Add(v, big.NewInt(1))
	} else if r.Sign() < 0 {
		v.Sub(v, big.NewInt(1))
	}
	switch {
	case v.Cmp(bigMaxInt) > 0:
		return math.MaxInt64
	case v.Cmp(bigMinInt) < 0:
		return math.MinInt64
	}
	return v.Int64()
}

// String returns the canonical form, as Kubernetes prints it: no
// fractional digits, the largest suffix that loses no precision, in q's
// format ("0.5" prints "500m", "1.5Gi" prints "1536Mi", "1e3" prints "1e3").
// BinarySI amounts below 1024 or not whole print in DecimalSI ("512", "500m").
func (q Quantity) String() string {
	n := q.value()
	if n.Sign() == 0 {
		return "0"
	}
	if q.Format == BinarySI {
		if s, ok := binaryString(n); ok {
			return s
		}
	}
	// Move factors of ten out of the mantissa into the exponent, then
	// back down to a multiple of three so an SI suffix fits.
	mant, exp := new(big.Int).Set(n), -9
	r := new(big.Int)
	for {
		q, m := new(big.Int).QuoRem(mant, bigTen, r)
		if m.Sign() != 0 {
			break
		}
		mant, exp = q, exp+1
	}
	for exp%3 != 0 {
		mant.Mul(mant, bigTen)
		exp--
	}
	if q.Format == DecimalExponent {
		if exp == 0 {
			return mant.String()
		}
		return mant.String() + "e" + strconv.Itoa(exp)
	}
	for exp > 18 { // beyond E: keep the mantissa growing instead
		mant.Mul(mant, pow10(3))
		exp -= 3
	}
	return mant.String() + decimalSuffixes[exp]
}

var decimalSuffixes = map[int]string{
	-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E",
}

var binarySuffixes = []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}

// binaryString prints n nanos with a binary suffix when n is a whole number
// of units at least 1024 in magnitude.
func binaryString(n *big.Int) (string, bool) {
	units, rem := new(big.Int).QuoRem(n, bigNano, new(big.Int))
	if rem.Sign() != 0 || units.CmpAbs(bigOneK) < 0 {
		return "", false
	}
	i := 0
	r := new(big.Int)
	for i < len(binarySuffixes)-1 {
		q, m := new(big.Int).QuoRem(units, bigOneK, r)
		if m.Sign() != 0 {
			break
		}
		units, i = q, i+1
	}
	return units.String() + binarySuffixes[i], true
}

// MarshalJSON encodes q as its canonical string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(q.String())
}

// UnmarshalJSON accepts a JSON string ("100m") or number (0.5), or null
// for zero.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	parsed, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = parsed
	return nil
}
