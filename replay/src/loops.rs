//! Loop iterators: `Run::loop_over` wraps any iterator, tracking the loop position and, for
//! the main loop, which iterations this run skips, warms up or logs.

use std::rc::Rc;

use crate::run::{Phase, Run};

/// The iterator returned by [`Run::loop_over`].
pub struct LoopIter<'r, I> {
    pub(crate) run: &'r Run,
    pub(crate) inner: I,
    pub(crate) name: Rc<str>,
    pub(crate) next_index: i64,
    pub(crate) open: bool,
    pub(crate) main: bool,
    pub(crate) finished: bool,
}

impl<I> std::fmt::Debug for LoopIter<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopIter")
            .field("name", &self.name)
            .field("next_index", &self.next_index)
            .finish()
    }
}

impl<I: Iterator> LoopIter<'_, I> {
    fn finish_loop(&mut self) {
        if self.open {
            self.run.close_iteration(self.main);
            self.open = false;
        }
        if self.main && !self.finished {
            self.run.end_main();
        }
        self.finished = true;
    }
}

impl<I: Iterator> Iterator for LoopIter<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        if self.finished {
            return None;
        }
        if self.open {
            self.run.close_iteration(self.main);
            self.open = false;
        }
        loop {
            let phase = if self.main {
                self.run.window.phase(self.next_index)
            } else {
                Phase::Active
            };
            if phase == Phase::End {
                self.finish_loop();
                return None;
            }
            let Some(item) = self.inner.next() else {
                self.finish_loop();
                return None;
            };
            let i = self.next_index;
            self.next_index += 1;
            if phase == Phase::Skip {
                self.run.skip_iteration();
                continue;
            }
            self.run.open_iteration(&self.name, i, self.main, phase);
            self.open = true;
            return Some(item);
        }
    }
}

impl<I> Drop for LoopIter<'_, I> {
    fn drop(&mut self) {
        if self.open {
            // Left mid-iteration (`?`, `break`, panic): the iteration is not marked complete,
            // so resume redoes it and replay does not count on it.
            self.run.st.borrow_mut().frames.pop();
        }
        if self.main && !self.finished {
            self.run.end_main();
        }
    }
}
