package service

import "time"

// EvalTime is the time a decide request with this "at" is evaluated at: the
// request's time, else the default of the data (recorded data: its end),
// else the clock. Reports show it as the tick's time.
func (s *Service) EvalTime(at *time.Time) time.Time {
	_, now := s.times(at)
	return now
}
