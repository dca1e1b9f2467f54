package rundir

import "testing"

func TestCheckpointNames(t *testing.T) {
	for _, step := range []int{0, 1, 250, 100000} {
		name := Checkpoint(step)
		if got, ok := CheckpointStep(name); !ok || got != step {
			t.Errorf("CheckpointStep(%q) = %d, %v; want %d", name, got, ok, step)
		}
	}
	for _, name := range []string{"final", "checkpoint-", "checkpoint-x", "checkpoint-1a", "xcheckpoint-3", "checkpoint--1", "checkpoint-+2", "checkpoint-99999999999999999999", EventsFile} {
		if step, ok := CheckpointStep(name); ok {
			t.Errorf("CheckpointStep(%q) = %d, true; want not a checkpoint", name, step)
		}
	}
}
