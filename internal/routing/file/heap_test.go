package file_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sagegate/sagegate/internal/routing"
	"github.com/sagegate/sagegate/internal/routing/file"
)

// BenchmarkStoreLiveHeap reports the heap a Store keeps live once opened on
// a routes file of 2,000 LOBs, 20,000 users and 500 groups: the routes are
// meant to be held once, in the store's index.
func BenchmarkStoreLiveHeap(b *testing.B) {
	path := filepath.Join(b.TempDir(), "routes.yaml")
	doc := file.Document{LOBs: map[string]routing.LOB{}, Users: map[string]routing.User{}, Groups: map[string][]string{}}
	for i := range 2000 {
		doc.LOBs[fmt.Sprintf("lob-%04d", i)] = routing.LOB{AccountID: fmt.Sprintf("%012d", i), DomainID: fmt.Sprintf("d-%012d", i), RoleARN: fmt.Sprintf("arn:aws:iam::%012d:role/sagegate-access", i), Label: "Team"}
	}
	for i := range 20000 {
		doc.Users[fmt.Sprintf("user-%05d", i)] = routing.User{LOBs: []string{fmt.Sprintf("lob-%04d", i%2000), fmt.Sprintf("lob-%04d", (i+1)%2000)}}
	}
	for i := range 500 {
		doc.Groups[fmt.Sprintf("group-%03d", i)] = []string{fmt.Sprintf("lob-%04d", i)}
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	doc = file.Document{}
	d := routing.Defaults{Region: "eu-west-1"}
	var live uint64
	for b.Loop() {
		before := heapInUse()
		s, err := file.New(file.Config{Path: path}, d)
		if err != nil {
			b.Fatal(err)
		}
		live += heapInUse() - before
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(live)/float64(b.N), "live-B/op")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
