//! Group commit: exports that arrive while the writer is busy wait in a queue, and the next
//! writer writes all of them (up to a bound) in one transaction, then answers each. A commit,
//! its sync of the log and the index pages it rewrites are then shared by several requests
//! instead of paid by each (ADR 0008).
//!
//! The queue does not write: whoever holds the writer calls [`GroupQueue::write_through`] with
//! the item it queued, and that call writes groups from the front of the queue until that item
//! is written. So every queued item has a caller that will see it written, an item is never
//! answered before its group's write returned, and no thread of its own is needed.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::oneshot;

/// Items waiting to be written together, in order of arrival, each with the channel its answer
/// goes to.
#[derive(Debug)]
pub(crate) struct GroupQueue<T, R> {
    state: Mutex<State<T, R>>,
    /// A group holds items of this total weight at most (spans for trace exports), and at
    /// least one item whatever its weight, so that a transaction stays bounded.
    max_weight: usize,
}

#[derive(Debug)]
struct State<T, R> {
    /// The number the next queued item gets.
    next: u64,
    items: VecDeque<Queued<T, R>>,
}

#[derive(Debug)]
struct Queued<T, R> {
    number: u64,
    weight: usize,
    value: T,
    answer: oneshot::Sender<R>,
}

/// A queued item: its number, for [`GroupQueue::write_through`], and where its answer arrives.
#[derive(Debug)]
pub(crate) struct Ticket<R> {
    pub(crate) number: u64,
    pub(crate) answer: oneshot::Receiver<R>,
}

impl<T, R> GroupQueue<T, R> {
    pub(crate) fn new(max_weight: usize) -> GroupQueue<T, R> {
        GroupQueue { state: Mutex::new(State { next: 0, items: VecDeque::new() }), max_weight }
    }

    /// Queues `value`; its answer arrives once a [`GroupQueue::write_through`] wrote it.
    pub(crate) fn push(&self, value: T, weight: usize) -> Ticket<R> {
        let (answer, receiver) = oneshot::channel();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let number = state.next;
        state.next += 1;
        state.items.push_back(Queued { number, weight, value, answer });
        Ticket { number, answer: receiver }
    }

    /// Whether the item numbered `number` was taken into a group (its answer comes when that
    /// group is written), so that its writer need not wait for the writer to find out.
    pub(crate) fn taken(&self, number: u64) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.items.front().is_none_or(|first| first.number > number)
    }

    /// Items waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).items.len()
    }

    /// Called with the writer held, for the item numbered `number`: takes groups from the front
    /// of the queue and hands each to `write`, which returns one answer per item in order, until
    /// that item is written (at once when an earlier call wrote it already). Each answer is sent
    /// after `write` returned. Returns how many groups were written.
    pub(crate) fn write_through(&self, number: u64, mut write: impl FnMut(&[&T]) -> Vec<R>) -> usize {
        let mut groups = 0;
        loop {
            let group: Vec<Queued<T, R>> = {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                if state.items.front().is_none_or(|first| first.number > number) {
                    return groups;
                }
                // From the front: what waited longest goes first.
                let mut weight = 0;
                let mut count = 0;
                for item in &state.items {
                    if count > 0 && weight + item.weight > self.max_weight {
                        break;
                    }
                    weight += item.weight;
                    count += 1;
                }
                state.items.drain(..count).collect()
            };
            let values: Vec<&T> = group.iter().map(|item| &item.value).collect();
            let answers = write(&values);
            debug_assert_eq!(answers.len(), group.len(), "one answer per item");
            for (item, answer) in group.into_iter().zip(answers) {
                // The request may have gone away (a closed connection); its data is stored.
                let _ = item.answer.send(answer);
            }
            groups += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes each group by recording it; answers each item with its value times ten.
    fn recorder(log: &mut Vec<Vec<u32>>) -> impl FnMut(&[&u32]) -> Vec<u32> + '_ {
        |group| {
            log.push(group.iter().map(|v| **v).collect());
            group.iter().map(|v| **v * 10).collect()
        }
    }

    #[test]
    fn the_first_writer_writes_every_waiting_item_in_one_group_and_later_ones_find_theirs_answered() {
        let queue = GroupQueue::new(1000);
        let mut tickets: Vec<Ticket<u32>> = (1..=3).map(|v| queue.push(v, 400)).collect();
        let mut log = Vec::new();
        assert_eq!(queue.write_through(tickets[0].number, recorder(&mut log)), 1);
        assert_eq!(log, [vec![1, 2]], "the bound of 1000 leaves the third for another group");
        assert!(queue.taken(tickets[1].number) && !queue.taken(tickets[2].number));
        assert_eq!(queue.write_through(tickets[1].number, recorder(&mut log)), 0, "written with the first");
        assert_eq!(queue.write_through(tickets[2].number, recorder(&mut log)), 1);
        assert_eq!(log, [vec![1, 2], vec![3]]);
        let answers: Vec<u32> = tickets.iter_mut().map(|t| t.answer.try_recv().unwrap()).collect();
        assert_eq!(answers, [10, 20, 30]);
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn a_writer_writes_groups_until_its_own_item_is_written_and_no_further() {
        let queue = GroupQueue::new(1000);
        let mut tickets: Vec<Ticket<u32>> = (1..=5).map(|v| queue.push(v, 400)).collect();
        let mut log = Vec::new();
        assert_eq!(queue.write_through(tickets[2].number, recorder(&mut log)), 2);
        assert_eq!(log, [vec![1, 2], vec![3, 4]], "the fifth waits for its own writer");
        assert_eq!(queue.len(), 1);
        assert!(tickets[4].answer.try_recv().is_err(), "no answer before it is written");
        assert_eq!(tickets[3].answer.try_recv().unwrap(), 40);
    }

    #[test]
    fn an_item_heavier_than_the_bound_is_written_alone() {
        let queue = GroupQueue::new(100);
        let tickets: Vec<Ticket<u32>> = [(1, 500), (2, 50), (3, 50)].map(|(v, w)| queue.push(v, w)).into();
        let mut log = Vec::new();
        queue.write_through(tickets[2].number, recorder(&mut log));
        assert_eq!(log, [vec![1], vec![2, 3]]);
    }

    #[test]
    fn concurrent_writers_answer_every_item_with_its_own_answer() {
        let queue = std::sync::Arc::new(GroupQueue::new(4));
        let writer = std::sync::Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
        let threads: Vec<_> = (0..8u32)
            .map(|i| {
                let (queue, writer) = (queue.clone(), writer.clone());
                std::thread::spawn(move || {
                    let (mut answers, mut groups) = (Vec::new(), 0);
                    for j in 0..50 {
                        let v = i * 1000 + j;
                        let mut ticket = queue.push(v, 1);
                        let mut log = writer.lock().unwrap();
                        groups += queue.write_through(ticket.number, recorder(&mut log));
                        answers.push((v, ticket.answer.try_recv().unwrap()));
                    }
                    (answers, groups)
                })
            })
            .collect();
        for t in threads {
            let (answers, _) = t.join().unwrap();
            assert!(answers.iter().all(|&(v, a)| a == v * 10), "{answers:?}");
        }
        let log = writer.lock().unwrap();
        let mut written: Vec<u32> = log.iter().flatten().copied().collect();
        written.sort_unstable();
        let mut expected: Vec<u32> = (0..8).flat_map(|i| (0..50).map(move |j| i * 1000 + j)).collect();
        expected.sort_unstable();
        assert_eq!(written, expected, "each item written exactly once");
        assert!(log.iter().all(|g| g.len() <= 4));
    }
}
