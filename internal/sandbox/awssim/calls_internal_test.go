package awssim

import "testing"

func TestCallLogKeepsTheNewestInOrder(t *testing.T) {
	var r callRecorder
	for i := 0; i < maxCallLog+25; i++ {
		r.record(CallRecord{Service: "sts"})
	}
	log := r.ordered()
	if len(log) != maxCallLog {
		t.Fatalf("log holds %d records, want %d", len(log), maxCallLog)
	}
	for i, rec := range log {
		if want := 26 + i; rec.Seq != want {
			t.Fatalf("log[%d].Seq = %d, want %d (oldest first, newest kept)", i, rec.Seq, want)
		}
	}
}
