// Package validation holds the checks shared by every kind: DNS names,
// label keys and values, object metadata, label selectors and immutable
// fields. The Is* functions return the reasons a string is not valid,
// worded exactly as Kubernetes words them (empty when valid); the
// Validate* functions return a field.ErrorList with paths.
//
// The package is pure: it never reads the store, so uniqueness of names
// and references to other objects are not its business.
package validation

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

const (
	dns1123LabelFmt       = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
	dns1123LabelErrMsg    = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
	dns1123SubdomainFmt   = dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*"
	dns1123SubdomainErr   = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
	qnameCharFmt          = "[A-Za-z0-9]"
	qnameExtCharFmt       = "[-A-Za-z0-9_.]"
	qualifiedNameFmt      = "(" + qnameCharFmt + qnameExtCharFmt + "*)?" + qnameCharFmt
	qualifiedNameErrMsg   = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	labelValueFmt         = "(" + qualifiedNameFmt + ")?"
	labelValueErrMsg      = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
	envVarNameFmt         = "[-._a-zA-Z][-._a-zA-Z0-9]*"
	envVarNameErrMsg      = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"
	configMapKeyFmt       = "[-._a-zA-Z0-9]+"
	configMapKeyErrMsg    = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
	portNameCharsetFmt    = "^[-a-z0-9]+$"
	portNameOneLetterFmt  = "[a-z]"
	qualifiedNameMaxLen   = 63
	labelValueMaxLength   = 63
	portNameMaxLength     = 15
	configMapKeyMaxLength = 253
)

// Length limits, as in Kubernetes.
const (
	DNS1123LabelMaxLength     = 63
	DNS1123SubdomainMaxLength = 253
)

var (
	dns1123LabelRE     = regexp.MustCompile("^" + dns1123LabelFmt + "$")
	dns1123SubdomainRE = regexp.MustCompile("^" + dns1123SubdomainFmt + "$")
	qualifiedNameRE    = regexp.MustCompile("^" + qualifiedNameFmt + "$")
	labelValueRE       = regexp.MustCompile("^" + labelValueFmt + "$")
	envVarNameRE       = regexp.MustCompile("^" + envVarNameFmt + "$")
	configMapKeyRE     = regexp.MustCompile("^" + configMapKeyFmt + "$")
	portNameCharsetRE  = regexp.MustCompile(portNameCharsetFmt)
	portNameOneLetter  = regexp.MustCompile(portNameOneLetterFmt)
)

// MaxLenError is the message for a string over its length limit.
func MaxLenError(length int) string {
	return fmt.Sprintf("must be no more than %d characters", length)
}

// EmptyError is the message for an empty string that must not be.
func EmptyError() string { return "must be non-empty" }

// RegexError is the message for a string that does not match fmt,
// naming examples of valid strings.
func RegexError(msg, fmt string, examples ...string) string {
	if len(examples) == 0 {
		return msg + " (regex used for validation is '" + fmt + "')"
	}
	msg += " (e.g. "
	for i, e := range examples {
		if i > 0 {
			msg += " or "
		}
		msg += "'" + e + "', "
	}
	return msg + "regex used for validation is '" + fmt + "')"
}

// IsDNS1123Label checks a DNS label (RFC 1123): Namespace and Service
// names, container names, port names in services.
func IsDNS1123Label(value string) []string {
	var errs []string
	if len(value) > DNS1123LabelMaxLength {
		errs = append(errs, MaxLenError(DNS1123LabelMaxLength))
	}
	if !dns1123LabelRE.MatchString(value) {
		if dns1123SubdomainRE.MatchString(value) {
			// A valid subdomain that is not a label must contain dots.
			errs = append(errs, "must not contain dots")
		} else {
			errs = append(errs, RegexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"))
		}
	}
	return errs
}

// IsDNS1123Subdomain checks a DNS subdomain (RFC 1123): most object names.
func IsDNS1123Subdomain(value string) []string {
	var errs []string
	if len(value) > DNS1123SubdomainMaxLength {
		errs = append(errs, MaxLenError(DNS1123SubdomainMaxLength))
	}
	if !dns1123SubdomainRE.MatchString(value) {
		errs = append(errs, RegexError(dns1123SubdomainErr, dns1123SubdomainFmt, "example.com"))
	}
	return errs
}

// IsQualifiedName checks a label or annotation key, finalizer or
// condition type: an optional DNS subdomain prefix and "/", then a name of
// at most 63 characters.
func IsQualifiedName(value string) []string {
	var errs []string
	parts := strings.Split(value, "/")
	var name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		var prefix string
		prefix, name = parts[0], parts[1]
		if prefix == "" {
			errs = append(errs, "prefix part "+EmptyError())
		} else {
			for _, msg := range IsDNS1123Subdomain(prefix) {
				errs = append(errs, "prefix part "+msg)
			}
		}
	default:
		return append(errs, "a qualified name "+RegexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")+
			" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
	}
	if name == "" {
		errs = append(errs, "name part "+EmptyError())
	} else if len(name) > qualifiedNameMaxLen {
		errs = append(errs, "name part "+MaxLenError(qualifiedNameMaxLen))
	}
	if !qualifiedNameRE.MatchString(name) {
		errs = append(errs, "name part "+RegexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"))
	}
	return errs
}

// IsValidLabelValue checks a label value: empty, or at most 63
// characters of [A-Za-z0-9._-] starting and ending alphanumeric.
func IsValidLabelValue(value string) []string {
	var errs []string
	if len(value) > labelValueMaxLength {
		errs = append(errs, MaxLenError(labelValueMaxLength))
	}
	if !labelValueRE.MatchString(value) {
		errs = append(errs, RegexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"))
	}
	return errs
}

// IsEnvVarName checks an environment variable name (or envFrom prefix).
func IsEnvVarName(value string) []string {
	var errs []string
	if !envVarNameRE.MatchString(value) {
		errs = append(errs, RegexError(envVarNameErrMsg, envVarNameFmt, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
	}
	return append(errs, hasChDirPrefix(value)...)
}

// IsConfigMapKey checks a key of ConfigMap or Secret data: it becomes a
// file name when the object is mounted as a volume.
func IsConfigMapKey(value string) []string {
	var errs []string
	if len(value) > configMapKeyMaxLength {
		errs = append(errs, MaxLenError(configMapKeyMaxLength))
	}
	if !configMapKeyRE.MatchString(value) {
		errs = append(errs, RegexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name"))
	}
	return append(errs, hasChDirPrefix(value)...)
}

func hasChDirPrefix(value string) []string {
	switch {
	case value == ".":
		return []string{`must not be '.'`}
	case value == "..":
		return []string{`must not be '..'`}
	case strings.HasPrefix(value, ".."):
		return []string{`must not start with '..'`}
	}
	return nil
}

// IsValidPortNum checks a port number.
func IsValidPortNum(port int) []string {
	if port < 1 || port > 65535 {
		return []string{"must be between 1 and 65535, inclusive"}
	}
	return nil
}

// IsValidPortName checks a named port (an IANA_SVC_NAME, RFC 6335).
func IsValidPortName(port string) []string {
	var errs []string
	if len(port) > portNameMaxLength {
		errs = append(errs, MaxLenError(portNameMaxLength))
	}
	if !portNameCharsetRE.MatchString(port) {
		errs = append(errs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
	}
	if !portNameOneLetter.MatchString(port) {
		errs = append(errs, "must contain at least one letter (a-z)")
	}
	if strings.Contains(port, "--") {
		errs = append(errs, "must not contain consecutive hyphens")
	}
	if len(port) > 0 && (port[0] == '-' || port[len(port)-1] == '-') {
		errs = append(errs, "must not begin or end with a hyphen")
	}
	return errs
}

// IsValidIP checks an IPv4 or IPv6 address.
func IsValidIP(value string) []string {
	if net.ParseIP(value) == nil {
		return []string{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}
	}
	return nil
}

// IsValidCIDR checks a CIDR such as 10.244.1.0/24.
func IsValidCIDR(value string) []string {
	if _, _, err := net.ParseCIDR(value); err != nil {
		return []string{"must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"}
	}
	return nil
}

// NameIsDNSSubdomain is the name check of most kinds.
func NameIsDNSSubdomain(name string) []string { return IsDNS1123Subdomain(name) }

// NameIsDNSLabel is the name check of Namespaces and Services, whose names
// become DNS labels.
func NameIsDNSLabel(name string) []string { return IsDNS1123Label(name) }
