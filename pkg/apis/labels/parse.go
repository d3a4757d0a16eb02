package labels

import (
	"fmt"
	"strings"
)

// Parse reads the Kubernetes label selector syntax: comma-separated
// requirements, each one of
//
//	key=value  key==value  key!=value
//	key in (v1,v2)  key notin (v1)
//	key  !key
//
// Whitespace between tokens is ignored; "" selects everything. Errors name
// the part of the selector that is wrong.
func Parse(s string) (Selector, error) {
	p := &parser{tokens: lex(s)}
	var reqs []Requirement
	if p.peek().kind == tokEnd {
		return Everything(), nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, fmt.Errorf("unable to parse requirement in %q: %w", s, err)
		}
		reqs = append(reqs, r)
		switch t := p.next(); t.kind {
		case tokEnd:
			return New(reqs...), nil
		case tokComma:
			if p.peek().kind == tokEnd {
				return nil, fmt.Errorf("unable to parse requirement in %q: found end of string after ',', expected: identifier", s)
			}
		default:
			return nil, fmt.Errorf("unable to parse requirement in %q: found %s, expected: ',' or end of string", s, t)
		}
	}
}

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokIdent
	tokComma
	tokOpenParen
	tokCloseParen
	tokBang
	tokEquals
	tokDoubleEquals
	tokNotEquals
	tokIn
	tokNotIn
)

type token struct {
	kind tokenKind
	text string
}

func (t token) String() string {
	if t.kind == tokEnd {
		return "end of string"
	}
	return "'" + t.text + "'"
}

// lex splits s into tokens. An identifier is any run of characters that
// are not whitespace or one of "!=,()"; "in" and "notin" are keywords.
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "!="):
			toks = append(toks, token{tokNotEquals, "!="})
			i += 2
		case strings.HasPrefix(s[i:], "=="):
			toks = append(toks, token{tokDoubleEquals, "=="})
			i += 2
		case c == '=':
			toks = append(toks, token{tokEquals, "="})
			i++
		case c == '!':
			toks = append(toks, token{tokBang, "!"})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ","})
			i++
		case c == '(':
			toks = append(toks, token{tokOpenParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tokCloseParen, ")"})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r!=,()", rune(s[j])) {
				j++
			}
			word := s[i:j]
			kind := tokIdent
			switch word {
			case "in":
				kind = tokIn
			case "notin":
				kind = tokNotIn
			}
			toks = append(toks, token{kind, word})
			i = j
		}
	}
	return toks
}

type parser struct {
	tokens []token
	pos    int
}

func (p *parser) peek() token {
	if p.pos >= len(p.tokens) {
		return token{kind: tokEnd}
	}
	return p.tokens[p.pos]
}

func (p *parser) next() token {
	t := p.peek()
	if p.pos < len(p.tokens) {
		p.pos++
	}
	return t
}

// requirement parses ['!'] key [op value | (in|notin) '(' values ')'].
func (p *parser) requirement() (Requirement, error) {
	if p.peek().kind == tokBang {
		p.next()
		key, err := p.identifier()
		if err != nil {
			return Requirement{}, err
		}
		return NewRequirement(key, DoesNotExist, nil)
	}
	key, err := p.identifier()
	if err != nil {
		return Requirement{}, err
	}
	switch t := p.peek(); t.kind {
	case tokEnd, tokComma:
		return NewRequirement(key, Exists, nil)
	case tokEquals, tokDoubleEquals, tokNotEquals:
		p.next()
		op := Equals
		if t.kind == tokNotEquals {
			op = NotEquals
		}
		return NewRequirement(key, op, []string{p.value()})
	case tokIn, tokNotIn:
		p.next()
		values, err := p.valueSet()
		if err != nil {
			return Requirement{}, err
		}
		op := In
		if t.kind == tokNotIn {
			op = NotIn
		}
		return NewRequirement(key, op, values)
	default:
		return Requirement{}, fmt.Errorf("found %s after key %q, expected: '=', '!=', '==', 'in', 'notin'", t, key)
	}
}

func (p *parser) identifier() (string, error) {
	t := p.next()
	if t.kind != tokIdent {
		return "", fmt.Errorf("found %s, expected: identifier", t)
	}
	return t.text, nil
}

// value reads an exact-match value, which may be empty ("a=" selects an
// empty label value). Keywords are plain values here.
func (p *parser) value() string {
	switch t := p.peek(); t.kind {
	case tokIdent, tokIn, tokNotIn:
		p.next()
		return t.text
	}
	return ""
}

// valueSet reads '(' v1, v2 ... ')'; values may be empty strings.
func (p *parser) valueSet() ([]string, error) {
	if t := p.next(); t.kind != tokOpenParen {
		return nil, fmt.Errorf("found %s, expected: '('", t)
	}
	var values []string
	for {
		values = append(values, p.value())
		switch t := p.next(); t.kind {
		case tokComma:
		case tokCloseParen:
			return values, nil
		default:
			return nil, fmt.Errorf("found %s in value set, expected: ',' or ')'", t)
		}
	}
}
