package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CronSchedule is a parsed standard cron schedule: five fields (minute,
// hour, day of month, month, day of week) with lists, ranges, steps, "*",
// "?", month and weekday names, or one of the descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <dur>.
// It is the syntax the CronJob controller accepts.
type CronSchedule struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i allowed
	domStar, dowStar              bool
	every                         time.Duration // @every; the bit sets are unused
}

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

func cronFields() [5]cronField {
	months := map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	days := map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	return [5]cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: months},
		{name: "day of week", min: 0, max: 7, names: days}, // 7 is Sunday too
	}
}

// cronDescriptor returns the five-field form of a descriptor.
func cronDescriptor(d string) (string, bool) {
	switch d {
	case "@yearly", "@annually":
		return "0 0 1 1 *", true
	case "@monthly":
		return "0 0 1 * *", true
	case "@weekly":
		return "0 0 * * 0", true
	case "@daily", "@midnight":
		return "0 0 * * *", true
	case "@hourly":
		return "0 * * * *", true
	}
	return "", false
}

// ParseCronSchedule parses a standard cron schedule.
func ParseCronSchedule(spec string) (*CronSchedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	if strings.HasPrefix(spec, "@") {
		return parseCronDescriptor(spec)
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(fields), fields)
	}
	var bitsets [5]uint64
	for i, f := range cronFields() {
		b, err := parseCronField(fields[i], f)
		if err != nil {
			return nil, err
		}
		bitsets[i] = b
	}
	if bitsets[4]&(1<<7) != 0 {
		bitsets[4] |= 1 // 7 means Sunday
	}
	return &CronSchedule{
		minute: bitsets[0], hour: bitsets[1], dom: bitsets[2], month: bitsets[3], dow: bitsets[4],
		domStar: isStar(fields[2]), dowStar: isStar(fields[4]),
	}, nil
}

func isStar(f string) bool { return f == "*" || f == "?" || strings.HasPrefix(f, "*/") }

func parseCronDescriptor(spec string) (*CronSchedule, error) {
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("@every duration must be at least 1 second: %s", spec)
		}
		return &CronSchedule{every: d}, nil
	}
	std, ok := cronDescriptor(spec)
	if !ok {
		return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
	}
	return ParseCronSchedule(std)
}

func parseCronField(expr string, f cronField) (uint64, error) {
	var out uint64
	for _, part := range strings.Split(expr, ",") {
		b, err := parseCronRange(part, f)
		if err != nil {
			return 0, err
		}
		out |= b
	}
	return out, nil
}

// parseCronRange parses "*", "?", "n", "a-b", each optionally "/step".
func parseCronRange(expr string, f cronField) (uint64, error) {
	rangeAndStep := strings.Split(expr, "/")
	lowAndHigh := strings.Split(rangeAndStep[0], "-")
	if len(rangeAndStep) > 2 {
		return 0, fmt.Errorf("too many slashes: %s", expr)
	}
	if len(lowAndHigh) > 2 {
		return 0, fmt.Errorf("too many hyphens: %s", expr)
	}
	lo, hi, err := cronBounds(lowAndHigh, f, expr)
	if err != nil {
		return 0, err
	}
	step := 1
	if len(rangeAndStep) == 2 {
		if step, err = cronNumber(rangeAndStep[1], nil); err != nil {
			return 0, err
		}
		if step <= 0 {
			return 0, fmt.Errorf("step of range should be a positive number: %s", expr)
		}
		if len(lowAndHigh) == 1 && lowAndHigh[0] != "*" && lowAndHigh[0] != "?" {
			hi = f.max // "n/step" means n through the maximum
		}
	}
	var b uint64
	for v := lo; v <= hi; v += step {
		b |= 1 << v
	}
	return b, nil
}

func cronBounds(lowAndHigh []string, f cronField, expr string) (int, int, error) {
	if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
		if len(lowAndHigh) > 1 {
			return 0, 0, fmt.Errorf("too many hyphens: %s", expr)
		}
		return f.min, f.max, nil
	}
	lo, err := cronNumber(lowAndHigh[0], f.names)
	if err != nil {
		return 0, 0, err
	}
	hi := lo
	if len(lowAndHigh) == 2 {
		if hi, err = cronNumber(lowAndHigh[1], f.names); err != nil {
			return 0, 0, err
		}
	}
	switch {
	case lo < f.min:
		return 0, 0, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", lo, f.min, expr)
	case hi > f.max:
		return 0, 0, fmt.Errorf("end of range (%d) above maximum (%d): %s", hi, f.max, expr)
	case lo > hi:
		return 0, 0, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", lo, hi, expr)
	}
	return lo, hi, nil
}

func cronNumber(s string, names map[string]int) (int, error) {
	if v, ok := names[strings.ToLower(s)]; ok {
		return v, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return n, nil
}

// Next returns the first activation time strictly after t (in t's
// location), or the zero time if none within five years.
func (s *CronSchedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond()))
	}
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case s.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
		case s.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, t.Location())
		case s.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// dayMatches follows cron: when both day fields are restricted, either
// matching is enough.
func (s *CronSchedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
