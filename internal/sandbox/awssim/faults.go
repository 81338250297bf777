package awssim

import (
	"net/http"
	"sync"
)

// Fault makes matching calls fail with a chosen AWS error, so that tests can
// drive a client's handling of throttling, access denial or outages through
// the real SDK (e.g. Code "ThrottlingException" for SageMaker, "Throttling"
// for STS). Faults apply after authentication and before the operation runs;
// the call is still counted.
type Fault struct {
	// Service ("sts", "sagemaker"), Operation and Account select calls; an
	// empty field matches anything. Account is the one the call is counted
	// under (see CallRecord.Account).
	Service   string
	Operation string
	Account   string
	// Code and Message form the error; Status defaults to 400.
	Code    string
	Message string
	Status  int
	// Times is how many matching calls fail; 0 means every matching call
	// until ClearFaults.
	Times int
}

type faultSet struct {
	mu     sync.Mutex
	faults []*Fault
}

// InjectFault adds a fault. Faults are tried in the order added.
func (s *Simulator) InjectFault(f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Message == "" {
		f.Message = "Injected fault: " + f.Code
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &f)
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// match returns the error of the first fault that matches the call, using
// up one of its Times.
func (fs *faultSet) match(rec *CallRecord) *apiError {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if (f.Service != "" && f.Service != rec.Service) ||
			(f.Operation != "" && f.Operation != rec.Operation) ||
			(f.Account != "" && f.Account != rec.Account) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				fs.faults = append(fs.faults[:i:i], fs.faults[i+1:]...)
			}
		}
		return newAPIError(f.Status, f.Code, f.Message)
	}
	return nil
}
