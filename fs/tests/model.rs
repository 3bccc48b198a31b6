//! Serializability: several threads run invocations of random POSIX operations
//! concurrently; replaying the committed invocations one by one, in commit-version order,
//! on a simple reference model must reproduce every observation they made and the final
//! tree. Proptest prints the failing input (and shrinks it); no regression files are kept.

use std::collections::BTreeMap;

use proptest::prelude::*;
use stratus_fs::error::errno::*;
use stratus_fs::{FileKind, Fs, FsError, OpenFlags, Txn};

const PATHS: [&str; 8] = [
    "/c", "/d0", "/d1", "/d0/a", "/d0/b", "/d1/a", "/d0/s", "/d0/s/a",
];

#[derive(Debug, Clone)]
enum Op {
    Write {
        path: usize,
        off: u64,
        len: usize,
        byte: u8,
    },
    Read {
        path: usize,
    },
    Truncate {
        path: usize,
        len: u64,
    },
    Unlink {
        path: usize,
    },
    Mkdir {
        path: usize,
    },
    Rmdir {
        path: usize,
    },
    Rename {
        from: usize,
        to: usize,
    },
    Stat {
        path: usize,
    },
    ReadDir {
        path: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Obs {
    Done,
    Bytes(Vec<u8>),
    Stat(bool, u64),
    Names(Vec<String>),
    Err(i32),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let p = 0..PATHS.len();
    prop_oneof![
        3 => (p.clone(), 0u64..96, 1usize..40, any::<u8>())
            .prop_map(|(path, off, len, byte)| Op::Write { path, off, len, byte }),
        2 => p.clone().prop_map(|path| Op::Read { path }),
        1 => (p.clone(), 0u64..64).prop_map(|(path, len)| Op::Truncate { path, len }),
        1 => p.clone().prop_map(|path| Op::Unlink { path }),
        2 => p.clone().prop_map(|path| Op::Mkdir { path }),
        1 => p.clone().prop_map(|path| Op::Rmdir { path }),
        2 => (p.clone(), p.clone()).prop_map(|(from, to)| Op::Rename { from, to }),
        1 => p.clone().prop_map(|path| Op::Stat { path }),
        1 => p.prop_map(|path| Op::ReadDir { path }),
    ]
}

fn obs<T>(r: Result<T, FsError>, f: impl FnOnce(T) -> Obs) -> Obs {
    match r {
        Ok(v) => f(v),
        Err(e) => Obs::Err(e.errno()),
    }
}

/// The operation on the real file system.
fn apply_fs(t: &mut Txn, op: &Op) -> Result<Obs, FsError> {
    Ok(match *op {
        Op::Write {
            path,
            off,
            len,
            byte,
        } => {
            let r = t
                .open(PATHS[path], OpenFlags::WRONLY | OpenFlags::CREAT, 0o644)
                .and_then(|fd| t.pwrite(fd, &vec![byte; len], off));
            obs(r, |_| Obs::Done)
        }
        Op::Read { path } => {
            let r = t.open(PATHS[path], OpenFlags::RDONLY, 0).and_then(|fd| {
                let mut b = vec![0u8; 512];
                let n = t.pread(fd, &mut b, 0)?;
                b.truncate(n);
                Ok(b)
            });
            obs(r, Obs::Bytes)
        }
        Op::Truncate { path, len } => obs(t.truncate(PATHS[path], len), |_| Obs::Done),
        Op::Unlink { path } => obs(t.unlink(PATHS[path]), |_| Obs::Done),
        Op::Mkdir { path } => obs(t.mkdir(PATHS[path], 0o755), |_| Obs::Done),
        Op::Rmdir { path } => obs(t.rmdir(PATHS[path]), |_| Obs::Done),
        Op::Rename { from, to } => obs(t.rename(PATHS[from], PATHS[to]), |_| Obs::Done),
        Op::Stat { path } => obs(t.stat(PATHS[path]), |s| {
            Obs::Stat(
                s.kind == FileKind::Dir,
                if s.kind == FileKind::Dir { 0 } else { s.size },
            )
        }),
        Op::ReadDir { path } => obs(t.readdir(PATHS[path]), |es| {
            Obs::Names(es.iter().map(|e| e.name_lossy()).collect())
        }),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
}

/// The reference: absolute path → node, the root implicit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Model(BTreeMap<String, Node>);

fn parent(path: &str) -> &str {
    let i = path.rfind('/').unwrap_or(0);
    if i == 0 { "/" } else { &path[..i] }
}

impl Model {
    fn node(&self, path: &str) -> Option<&Node> {
        if path == "/" {
            Some(&Node::Dir)
        } else {
            self.0.get(path)
        }
    }

    /// Errors of resolving `path` itself (a prefix missing or not a directory).
    fn resolve(&self, path: &str) -> Result<&Node, i32> {
        let mut at = String::new();
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            if !matches!(
                self.node(if at.is_empty() { "/" } else { &at }),
                Some(Node::Dir)
            ) {
                return Err(ENOTDIR);
            }
            at = format!("{at}/{comp}");
            if self.node(&at).is_none() {
                return Err(ENOENT);
            }
        }
        self.node(path).ok_or(ENOENT)
    }

    fn resolve_parent(&self, path: &str) -> Result<(), i32> {
        match self.resolve(parent(path))? {
            Node::Dir => Ok(()),
            Node::File(_) => Err(ENOTDIR),
        }
    }

    fn children(&self, dir: &str) -> Vec<String> {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        self.0
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect()
    }

    fn apply(&mut self, op: &Op) -> Obs {
        match self.try_apply(op) {
            Ok(o) => o,
            Err(e) => Obs::Err(e),
        }
    }

    fn try_apply(&mut self, op: &Op) -> Result<Obs, i32> {
        match *op {
            Op::Write {
                path,
                off,
                len,
                byte,
            } => {
                let p = PATHS[path];
                self.resolve_parent(p)?;
                let data = match self
                    .0
                    .entry(p.to_string())
                    .or_insert(Node::File(Vec::new()))
                {
                    Node::Dir => return Err(EISDIR),
                    Node::File(d) => d,
                };
                let end = off as usize + len;
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[off as usize..end].fill(byte);
                Ok(Obs::Done)
            }
            Op::Read { path } => match self.resolve(PATHS[path])? {
                Node::Dir => Err(EISDIR),
                Node::File(d) => Ok(Obs::Bytes(d.clone())),
            },
            Op::Truncate { path, len } => {
                self.resolve(PATHS[path])?;
                match self.0.get_mut(PATHS[path]) {
                    Some(Node::File(d)) => {
                        d.resize(len as usize, 0);
                        Ok(Obs::Done)
                    }
                    _ => Err(EISDIR),
                }
            }
            Op::Unlink { path } => {
                let p = PATHS[path];
                self.resolve_parent(p)?;
                match self.node(p) {
                    None => Err(ENOENT),
                    Some(Node::Dir) => Err(EISDIR),
                    Some(Node::File(_)) => {
                        self.0.remove(p);
                        Ok(Obs::Done)
                    }
                }
            }
            Op::Mkdir { path } => {
                let p = PATHS[path];
                self.resolve_parent(p)?;
                if self.node(p).is_some() {
                    return Err(EEXIST);
                }
                self.0.insert(p.to_string(), Node::Dir);
                Ok(Obs::Done)
            }
            Op::Rmdir { path } => {
                let p = PATHS[path];
                self.resolve_parent(p)?;
                match self.node(p) {
                    None => Err(ENOENT),
                    Some(Node::File(_)) => Err(ENOTDIR),
                    Some(Node::Dir) if !self.children(p).is_empty() => Err(ENOTEMPTY),
                    Some(Node::Dir) => {
                        self.0.remove(p);
                        Ok(Obs::Done)
                    }
                }
            }
            Op::Rename { from, to } => {
                let (f, t) = (PATHS[from], PATHS[to]);
                self.resolve_parent(f)?;
                self.resolve_parent(t)?;
                let src = self.node(f).cloned().ok_or(ENOENT)?;
                if f == t {
                    return Ok(Obs::Done);
                }
                let src_dir = src == Node::Dir;
                if src_dir && t.starts_with(&format!("{f}/")) {
                    return Err(EINVAL);
                }
                match self.node(t) {
                    Some(Node::File(_)) if src_dir => return Err(ENOTDIR),
                    Some(Node::Dir) if !src_dir => return Err(EISDIR),
                    Some(Node::Dir) if !self.children(t).is_empty() => return Err(ENOTEMPTY),
                    _ => {}
                }
                self.0.remove(t);
                let moved: Vec<String> = self
                    .0
                    .keys()
                    .filter(|k| *k == f || k.starts_with(&format!("{f}/")))
                    .cloned()
                    .collect();
                for k in moved {
                    let n = self.0.remove(&k).expect("listed");
                    self.0.insert(format!("{t}{}", &k[f.len()..]), n);
                }
                Ok(Obs::Done)
            }
            Op::Stat { path } => Ok(match self.resolve(PATHS[path])? {
                Node::Dir => Obs::Stat(true, 0),
                Node::File(d) => Obs::Stat(false, d.len() as u64),
            }),
            Op::ReadDir { path } => match self.resolve(PATHS[path])? {
                Node::File(_) => Err(ENOTDIR),
                Node::Dir => Ok(Obs::Names(self.children(PATHS[path]))),
            },
        }
    }
}

/// The whole tree as the model sees it, read from the file system.
fn snapshot(fs: &Fs) -> Model {
    fs.invoke(|t| {
        let mut m = Model::default();
        let mut dirs = vec!["/".to_string()];
        while let Some(d) = dirs.pop() {
            for e in t.readdir(&d)? {
                let p = if d == "/" {
                    format!("/{}", e.name_lossy())
                } else {
                    format!("{d}/{}", e.name_lossy())
                };
                if e.kind == FileKind::Dir {
                    m.0.insert(p.clone(), Node::Dir);
                    dirs.push(p);
                } else {
                    let fd = t.open(&p, OpenFlags::RDONLY, 0)?;
                    let mut b = vec![0u8; 4096];
                    let n = t.read(fd, &mut b)?;
                    b.truncate(n);
                    m.0.insert(p, Node::File(b));
                }
            }
        }
        Ok(m)
    })
    .expect("snapshot")
    .value
}

type Invocations = Vec<Vec<Op>>;

fn check(threads: Vec<Invocations>) -> Result<(), TestCaseError> {
    check_on(Fs::in_memory(), threads)
}

fn check_on(fs: Fs, threads: Vec<Invocations>) -> Result<(), TestCaseError> {
    // Threads 0 and 1 share an executor (and its cache); the others have their own.
    let executors: Vec<Fs> = (0..threads.len())
        .map(|i| if i < 2 { fs.clone() } else { fs.new_executor() })
        .collect();
    let mut committed: Vec<(u64, bool, Vec<Op>, Vec<Obs>)> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = threads
            .iter()
            .zip(&executors)
            .map(|(invs, ex)| {
                s.spawn(move || {
                    invs.iter()
                        .map(|ops| {
                            let out = ex
                                .invoke(|t| {
                                    ops.iter()
                                        .map(|op| apply_fs(t, op))
                                        .collect::<Result<Vec<_>, _>>()
                                })
                                .expect("invocation commits");
                            (out.version, out.wrote, ops.clone(), out.value)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            committed.extend(h.join().expect("thread"));
        }
    });
    // Commit order: by version; a read-only commit (which reports the version it validated
    // against) comes after the writer of that version.
    committed.sort_by_key(|(v, writes, _, _)| (*v, !*writes));
    let mut model = Model::default();
    for (version, _, ops, seen) in &committed {
        let expected: Vec<Obs> = ops.iter().map(|op| model.apply(op)).collect();
        prop_assert_eq!(
            seen,
            &expected,
            "invocation at version {} saw {:?}",
            version,
            ops
        );
    }
    prop_assert_eq!(snapshot(&fs), model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_invocations_are_serializable_in_commit_order(
        threads in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(op_strategy(), 1..5), 1..24),
            2..5,
        )
    ) {
        check(threads)?;
    }
}

proptest! {
    // The durable backend: each commit is an fsynced redb transaction, so fewer cases.
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_invocations_on_redb_are_serializable_in_commit_order(
        threads in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(op_strategy(), 1..5), 1..12),
            2..4,
        )
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let fs = Fs::open_redb(dir.path().join("model.redb")).expect("open");
        check_on(fs, threads)?;
    }
}

#[test]
fn a_single_invocation_sequence_matches_the_model() {
    // A fixed, readable scenario that exercises every operation once.
    let ops = vec![
        Op::Mkdir { path: 1 },
        Op::Write {
            path: 3,
            off: 5,
            len: 3,
            byte: 9,
        },
        Op::Mkdir { path: 6 },
        Op::Rename { from: 1, to: 2 },
        Op::ReadDir { path: 2 },
        Op::Read { path: 5 },
        Op::Truncate { path: 5, len: 2 },
        Op::Rmdir { path: 2 },
        Op::Unlink { path: 5 },
        Op::Stat { path: 2 },
    ];
    check(vec![vec![ops]]).expect("matches");
}
