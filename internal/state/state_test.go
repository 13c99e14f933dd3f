package state

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestScheduleDuration(t *testing.T) {
	s := Schedule{Base: 5 * time.Minute, Max: 24 * time.Hour}
	for _, tc := range []struct {
		s     Schedule
		level int
		want  time.Duration
	}{
		{s, 0, 5 * time.Minute},
		{s, 1, 5 * time.Minute},
		{s, 2, 10 * time.Minute},
		{s, 3, 20 * time.Minute},
		{s, 9, 1280 * time.Minute},
		{s, 10, 24 * time.Hour},
		{s, 1 << 30, 24 * time.Hour},
		{Schedule{Base: time.Minute, Max: time.Second}, 5, time.Minute}, // Max < Base means Base
		{Schedule{Base: time.Hour, Max: math.MaxInt64}, 1000, math.MaxInt64},
	} {
		if got := tc.s.Duration(tc.level); got != tc.want {
			t.Errorf("%+v.Duration(%d) = %v, want %v", tc.s, tc.level, got, tc.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		want bool
	}{
		{Schedule{Base: time.Minute}, true},
		{Schedule{Base: time.Minute, Remember: time.Hour}, true},
		{Schedule{}, false},
		{Schedule{Base: -time.Minute}, false},
		{Schedule{Base: time.Minute, Remember: -1}, false},
	} {
		err := tc.s.Validate()
		if (err == nil) != tc.want || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%+v.Validate() = %v, want valid %v (errors wrapping ErrInvalid)", tc.s, err, tc.want)
		}
	}
}
