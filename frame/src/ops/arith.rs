//! Element-wise arithmetic and comparison between columns and scalars.

use rayon::prelude::*;

use crate::column::{Column, PAR_THRESHOLD, Prim};
use crate::error::{FrameError, Result};
use crate::value::Value;

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b` (always Float64, as Python's true division; x / 0 is ±inf or NaN).
    Div,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Column {
    /// Element-wise `self op other` for numeric columns of one length. Int64 with Int64
    /// stays Int64 (wrapping) except for division; anything with Float64 is Float64; a null
    /// on either side gives null.
    pub fn arith(&self, op: ArithOp, other: &Column) -> Result<Column> {
        if self.len() != other.len() {
            return Err(FrameError::LengthMismatch {
                what: "right operand".into(),
                expected: self.len(),
                actual: other.len(),
            });
        }
        let valid = |a: &Option<Vec<bool>>, b: &Option<Vec<bool>>| match (a, b) {
            (None, None) => None,
            (Some(x), None) | (None, Some(x)) => Some(x.clone()),
            (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(a, b)| *a && *b).collect()),
        };
        if let (Column::Int64(a), Column::Int64(b), false) = (self, other, op == ArithOp::Div) {
            let f = match op {
                ArithOp::Add => i64::wrapping_add,
                ArithOp::Sub => i64::wrapping_sub,
                _ => i64::wrapping_mul,
            };
            let values = zip_map(&a.values, &b.values, f);
            return Ok(Column::Int64(Prim {
                values,
                validity: valid(&a.validity, &b.validity),
            }));
        }
        let (a, b) = (self.numeric("", "arith")?, other.numeric("", "arith")?);
        let f = match op {
            ArithOp::Add => |x: f64, y: f64| x + y,
            ArithOp::Sub => |x: f64, y: f64| x - y,
            ArithOp::Mul => |x: f64, y: f64| x * y,
            ArithOp::Div => |x: f64, y: f64| x / y,
        };
        let values = zip_map(&a.values, &b.values, f);
        Ok(Column::Float64(Prim {
            values,
            validity: valid(&a.validity, &b.validity),
        }))
    }

    /// Element-wise comparison with a scalar; a missing value (null, NaN) compares false,
    /// except under `Ne`, as in pandas.
    /// Numbers compare by value across Int64/Float64; strings bytewise.
    pub fn compare(&self, op: CmpOp, scalar: &Value) -> Vec<bool> {
        let test = |v: Value| -> bool {
            if v.is_missing() || scalar.is_missing() {
                return op == CmpOp::Ne;
            }
            let comparable = matches!(
                (&v, scalar),
                (
                    Value::Int(_) | Value::Float(_),
                    Value::Int(_) | Value::Float(_)
                ) | (Value::Str(_), Value::Str(_))
                    | (Value::Bool(_), Value::Bool(_))
                    | (Value::Datetime(_), Value::Datetime(_))
            );
            if !comparable {
                return op == CmpOp::Ne;
            }
            let o = v.total_cmp(scalar);
            let o = if matches!(
                (&v, scalar),
                (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_))
            ) {
                // total_cmp breaks Int/Float ties by kind; comparison wants equality.
                let (x, y) = (v.as_f64().unwrap_or(0.0), scalar.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(o)
            } else {
                o
            };
            match op {
                CmpOp::Eq => o.is_eq(),
                CmpOp::Ne => o.is_ne(),
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::Ge => o.is_ge(),
            }
        };
        if self.len() >= PAR_THRESHOLD {
            (0..self.len())
                .into_par_iter()
                .map(|i| test(self.get(i)))
                .collect()
        } else {
            (0..self.len()).map(|i| test(self.get(i))).collect()
        }
    }
}

fn zip_map<T: Copy + Send + Sync>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    if a.len() >= PAR_THRESHOLD {
        a.par_iter()
            .zip(b.par_iter())
            .map(|(&x, &y)| f(x, y))
            .collect()
    } else {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }
}
