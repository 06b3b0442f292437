package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kamerrezz/theminidog/agent/queue"
)

var _ queue.Queue[int] = (*queue.Memory[int])(nil)

func TestFullQueueDropsNewest(t *testing.T) {
	t.Parallel()

	var droppedItems []int
	q := queue.NewMemory(2, queue.WithOnDrop(func(item int) { droppedItems = append(droppedItems, item) }))

	for i := 1; i <= 4; i++ {
		want := i <= 2
		if got := q.Push(i); got != want {
			t.Errorf("Push(%d) = %v, want %v", i, got, want)
		}
	}

	if q.Dropped() != 2 {
		t.Errorf("Dropped() = %d, want 2", q.Dropped())
	}
	if len(droppedItems) != 2 || droppedItems[0] != 3 || droppedItems[1] != 4 {
		t.Errorf("dropped items = %v, want [3 4], the newest", droppedItems)
	}
	if q.Len() != 2 {
		t.Errorf("Len() = %d, want 2", q.Len())
	}
	for _, want := range []int{1, 2} {
		if got, err := q.Pop(context.Background()); err != nil || got != want {
			t.Errorf("Pop() = %d, %v; want %d, the oldest kept", got, err, want)
		}
	}
}

func TestPopWaitsForPush(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory[string](4)

	var wg sync.WaitGroup
	var got string
	var err error
	wg.Go(func() { got, err = q.Pop(context.Background()) })

	q.Push("batch")
	wg.Wait()
	if err != nil || got != "batch" {
		t.Errorf("Pop() = %q, %v; want batch", got, err)
	}
}

func TestPopReturnsOnContextDone(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory[int](1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Pop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Pop on empty queue with cancelled context: err = %v, want context.Canceled", err)
	}

	q.Push(7)
	if got, err := q.Pop(ctx); err != nil || got != 7 {
		t.Errorf("Pop with queued item and cancelled context = %d, %v; want 7, nil", got, err)
	}
}

func TestCloseDrainsThenReportsClosed(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory[int](3)
	q.Push(1)
	q.Push(2)
	q.Close()
	q.Close()

	if q.Push(3) {
		t.Error("Push after Close succeeded")
	}
	if q.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1 for the push after Close", q.Dropped())
	}

	for _, want := range []int{1, 2} {
		if got, err := q.Pop(context.Background()); err != nil || got != want {
			t.Errorf("Pop() = %d, %v; want %d", got, err, want)
		}
	}
	if _, err := q.Pop(context.Background()); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("Pop on closed empty queue: err = %v, want ErrClosed", err)
	}
}

func TestConcurrentPushPopCountsEveryItem(t *testing.T) {
	t.Parallel()
	q := queue.NewMemory[int](8)

	const producers, perProducer = 4, 500
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for i := range perProducer {
				q.Push(i)
			}
		})
	}

	popped := 0
	done := make(chan struct{})
	go func() {
		for {
			if _, err := q.Pop(context.Background()); err != nil {
				close(done)
				return
			}
			popped++
		}
	}()

	wg.Wait()
	q.Close()
	<-done

	if total := uint64(popped) + q.Dropped(); total != producers*perProducer {
		t.Errorf("popped %d + dropped %d = %d, want %d", popped, q.Dropped(), total, producers*perProducer)
	}
}
