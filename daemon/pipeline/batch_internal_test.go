package pipeline

import "testing"

func TestChunkSize(t *testing.T) {
	for _, tc := range []struct{ n, workers, want int }{
		{1, 2, minChunk}, {256, 2, minChunk}, {512, 2, 256}, {1000, 2, 500}, {4096, 2, maxChunk}, {4096, 8, 512}, {100000, 2, maxChunk},
	} {
		if got := chunkSize(tc.n, tc.workers); got != tc.want {
			t.Errorf("chunkSize(%d, %d) = %d, want %d", tc.n, tc.workers, got, tc.want)
		}
	}
}
