//! Fixed-width columns (ints, floats, bools, datetimes) with an optional validity mask.

use rayon::prelude::*;

/// Above this many rows, gathers run in parallel.
pub(crate) const PAR_THRESHOLD: usize = 1 << 16;

/// Fixed-width values plus a validity mask (`None`: no nulls). A null slot holds
/// `T::default()`, so kernels can run over `values` branch-free and mask afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Prim<T> {
    pub(crate) values: Vec<T>,
    pub(crate) validity: Option<Vec<bool>>,
}

impl<T: Copy + Default + Send + Sync> Prim<T> {
    /// A column with no nulls.
    pub fn new(values: Vec<T>) -> Self {
        Prim {
            values,
            validity: None,
        }
    }

    /// A column from optional values.
    pub fn from_options(values: impl IntoIterator<Item = Option<T>>) -> Self {
        let mut out = Vec::new();
        let mut validity = Vec::new();
        for v in values {
            validity.push(v.is_some());
            out.push(v.unwrap_or_default());
        }
        Prim::with_validity(out, validity)
    }

    /// Values plus validity; an all-true mask is dropped.
    pub fn with_validity(values: Vec<T>, validity: Vec<bool>) -> Self {
        debug_assert_eq!(values.len(), validity.len());
        let validity = if validity.iter().all(|&v| v) {
            None
        } else {
            Some(validity)
        };
        Prim { values, validity }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The raw values (null slots hold `T::default()`).
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The validity mask, `None` when no value is null.
    pub fn validity(&self) -> Option<&[bool]> {
        self.validity.as_deref()
    }

    /// Whether row `i` holds a value.
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        self.validity.as_ref().is_none_or(|v| v[i])
    }

    /// Row `i`, `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        self.is_valid(i).then(|| self.values[i])
    }

    /// Number of nulls.
    pub fn null_count(&self) -> usize {
        self.validity
            .as_ref()
            .map_or(0, |v| v.iter().filter(|&&b| !b).count())
    }

    pub(crate) fn take(&self, idx: &[usize]) -> Self {
        let values: Vec<T> = if idx.len() >= PAR_THRESHOLD {
            idx.par_iter().map(|&i| self.values[i]).collect()
        } else {
            idx.iter().map(|&i| self.values[i]).collect()
        };
        let validity = self.validity.as_ref().map(|v| {
            let taken: Vec<bool> = idx.iter().map(|&i| v[i]).collect();
            taken
        });
        Prim {
            values,
            validity: validity.filter(|v| v.iter().any(|&b| !b)),
        }
    }

    /// Row `k` of the result is row `pick(k)` of `self` (`None`: null). The values are
    /// collected straight into the result (one write per row); the validity mask is built
    /// only when some picked row is null.
    pub(crate) fn gather(&self, len: usize, pick: impl Fn(usize) -> Option<usize> + Sync) -> Self {
        let par = len >= PAR_THRESHOLD;
        let value = |k: usize| pick(k).map_or_else(T::default, |i| self.values[i]);
        let values: Vec<T> = if par {
            (0..len).into_par_iter().map(value).collect()
        } else {
            (0..len).map(value).collect()
        };
        let valid = |k: usize| pick(k).is_some_and(|i| self.is_valid(i));
        let all_valid = if par {
            (0..len).into_par_iter().all(valid)
        } else {
            (0..len).all(valid)
        };
        if all_valid {
            return Prim::new(values);
        }
        let validity: Vec<bool> = if par {
            (0..len).into_par_iter().map(valid).collect()
        } else {
            (0..len).map(valid).collect()
        };
        Prim {
            values,
            validity: Some(validity),
        }
    }

    pub(crate) fn slice(&self, start: usize, len: usize) -> Self {
        Prim {
            values: self.values[start..start + len].to_vec(),
            validity: self
                .validity
                .as_ref()
                .map(|v| v[start..start + len].to_vec())
                .filter(|v| v.iter().any(|&b| !b)),
        }
    }

    pub(crate) fn concat(parts: &[&Prim<T>]) -> Self {
        let mut values = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        let any_nulls = parts.iter().any(|p| p.validity.is_some());
        let mut validity = Vec::new();
        for p in parts {
            values.extend_from_slice(&p.values);
            if any_nulls {
                match &p.validity {
                    Some(v) => validity.extend_from_slice(v),
                    None => validity.resize(validity.len() + p.len(), true),
                }
            }
        }
        Prim {
            values,
            validity: any_nulls.then_some(validity),
        }
    }

    /// Maps every valid value, keeping nulls.
    pub(crate) fn map<U: Copy + Default + Send + Sync>(
        &self,
        f: impl Fn(T) -> U + Sync,
    ) -> Prim<U> {
        let values: Vec<U> = if self.len() >= PAR_THRESHOLD {
            self.values.par_iter().map(|&v| f(v)).collect()
        } else {
            self.values.iter().map(|&v| f(v)).collect()
        };
        Prim {
            values,
            validity: self.validity.clone(),
        }
    }
}
