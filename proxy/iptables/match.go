package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// rule is one parsed iptables rule, enough for the tracer.
type rule struct {
	src, dst     *prefixMatch
	proto        string
	dport        int
	srcType      *typeMatch
	dstType      *typeMatch
	probability  float64 // 0: no statistic match
	rcheck       bool    // -m recent --rcheck: never true for a first packet
	mark         *markMatch
	ctstates     []string
	ctNeg        bool
	target       string
	targetArgs   []string
	matchModules []string
}

type prefixMatch struct {
	p   netip.Prefix
	neg bool
}

type typeMatch struct {
	typ string
	neg bool
}

type markMatch struct {
	value, mask uint32
	neg         bool
}

// parseRule parses the text after "-A <chain> ".
func parseRule(text string) (*rule, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	r := &rule{}
	neg := false
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if tok == "!" {
			neg = true
			continue
		}
		if tok == "-j" || tok == "-g" {
			if i+1 >= len(toks) {
				return nil, fmt.Errorf("%s without target", tok)
			}
			r.target, r.targetArgs = toks[i+1], toks[i+2:]
			return r, nil
		}
		next := func() (string, error) {
			if i+1 >= len(toks) {
				return "", fmt.Errorf("%s without value", tok)
			}
			i++
			return toks[i], nil
		}
		if err := r.option(tok, next, neg); err != nil {
			return nil, fmt.Errorf("rule %q: %w", text, err)
		}
		neg = false
	}
	return r, nil
}

// option parses one option and its value.
func (r *rule) option(tok string, next func() (string, error), neg bool) error {
	switch tok {
	case "--rsource", "--reap", "--set", "--random-fully":
		return nil
	case "--rcheck":
		r.rcheck = true
		return nil
	}
	val, err := next()
	if err != nil {
		return err
	}
	switch tok {
	case "-s", "--source", "-d", "--destination":
		p, err := parsePrefix(val)
		if err != nil {
			return err
		}
		if tok[1] == 's' || tok == "--source" {
			r.src = &prefixMatch{p, neg}
		} else {
			r.dst = &prefixMatch{p, neg}
		}
	case "-p", "--protocol":
		r.proto = strings.ToLower(val)
	case "-m", "--match":
		r.matchModules = append(r.matchModules, val)
	case "--dport", "--destination-port":
		r.dport, err = strconv.Atoi(val)
	case "--src-type":
		r.srcType = &typeMatch{val, neg}
	case "--dst-type":
		r.dstType = &typeMatch{val, neg}
	case "--probability":
		r.probability, err = strconv.ParseFloat(val, 64)
	case "--mark":
		r.mark, err = parseMark(val, neg)
	case "--ctstate":
		r.ctstates, r.ctNeg = strings.Split(val, ","), neg
	case "--comment", "--mode", "--name", "--mask", "--seconds":
	default:
		return fmt.Errorf("unsupported option %s", tok)
	}
	return err
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.ParsePrefix(s)
}

func parseMark(s string, neg bool) (*markMatch, error) {
	v, m, hasMask := strings.Cut(s, "/")
	value, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return nil, err
	}
	mask := uint64(0xffffffff)
	if hasMask {
		if mask, err = strconv.ParseUint(m, 0, 32); err != nil {
			return nil, err
		}
	}
	return &markMatch{uint32(value), uint32(mask), neg}, nil
}

// tokenize splits a rule on spaces, keeping double-quoted strings whole.
func tokenize(s string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				toks = append(toks, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if have {
		toks = append(toks, cur.String())
	}
	return toks, nil
}
