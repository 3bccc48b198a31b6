//! A contended shared file: many invocations increment one counter; the result is exact,
//! and the conflicts they hit are counted and retried.

use stratus_fs::{Fs, FsError, OpenFlags, Txn};

fn increment(t: &mut Txn) -> Result<u64, FsError> {
    let fd = t.open("/counter", OpenFlags::RDWR | OpenFlags::CREAT, 0o644)?;
    let mut b = [0u8; 8];
    let n = t.pread(fd, &mut b, 0)?;
    let v = if n == 8 { u64::from_le_bytes(b) } else { 0 } + 1;
    t.pwrite(fd, &v.to_le_bytes(), 0)?;
    Ok(v)
}

#[test]
fn a_shared_counter_ends_exactly_right() {
    const THREADS: usize = 6;
    const PER_THREAD: usize = 60;
    let fs = Fs::in_memory();
    let executors: Vec<Fs> = (0..THREADS).map(|_| fs.new_executor()).collect();
    let retries: u32 = std::thread::scope(|s| {
        let hs: Vec<_> = executors
            .iter()
            .map(|ex| {
                s.spawn(move || {
                    (0..PER_THREAD)
                        .map(|_| ex.invoke(increment).expect("increment").retries)
                        .sum::<u32>()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let last = fs
        .invoke(|t| {
            let fd = t.open("/counter", OpenFlags::RDONLY, 0)?;
            let mut b = [0u8; 8];
            t.read(fd, &mut b)?;
            Ok(u64::from_le_bytes(b))
        })
        .expect("read")
        .value;
    assert_eq!(last, (THREADS * PER_THREAD) as u64);
    let conflicts: u64 = executors.iter().map(|e| e.stats().conflicts).sum();
    let commits: u64 = executors.iter().map(|e| e.stats().commits).sum();
    assert_eq!(commits, (THREADS * PER_THREAD) as u64);
    // Every reported retry is a counted conflict, and the other way round.
    assert_eq!(u64::from(retries), conflicts);
}

#[test]
fn exhausted_retries_are_reported_and_install_nothing() {
    let fs = Fs::in_memory().with_retry_policy(stratus_fs::RetryPolicy {
        max_attempts: 3,
        ..Default::default()
    });
    let other = fs.new_executor();
    // The body makes its own transaction stale every time: a conflict on every attempt.
    let r = fs.invoke(|t| {
        increment(t)?;
        other.invoke(increment).expect("other commits");
        Ok(())
    });
    assert_eq!(
        r.expect_err("gives up"),
        FsError::RetriesExhausted { attempts: 3 }
    );
    assert_eq!(fs.stats().gave_up, 1);
    assert_eq!(fs.stats().conflicts, 3);
    let v = other.invoke(increment).expect("read").value;
    assert_eq!(
        v, 4,
        "only the three increments of `other` (plus this one) committed"
    );
}
