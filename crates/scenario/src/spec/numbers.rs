//! Numbers as the format reads them: finite ([`Num`]), whole ([`Whole`]) and counts of
//! days ([`Days`]), kept wide so that a value out of range is reported against its field.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A finite number: `.nan`, `.inf` and `-.inf` are refused where they are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub f64);

pub(super) fn yaml_float(v: f64) -> &'static str {
    if v.is_nan() {
        ".nan"
    } else if v > 0.0 {
        ".inf"
    } else {
        "-.inf"
    }
}

/// Reads a number as YAML resolves the scalar on its own (`deserialize_any`), not with
/// `f64`'s lenient parse: a sweep template holds the document as a value tree, which
/// resolves scalars that way, and a file and a sweep instance must read a number alike
/// (`0123` is text to both, `0x1F` is 31 to both). Found by fuzzing (docs/reliability.md).
struct NumVisitor;

impl Visitor<'_> for NumVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("f64")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    // A whole number beyond 64 bits: the value tree cannot hold it, so neither may a file.
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<f64, E> {
        Err(too_long(&v, v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<f64, E> {
        Err(too_long(&v, v as f64))
    }
}

fn too_long<E: de::Error>(v: &dyn fmt::Display, approx: f64) -> E {
    E::custom(format!(
        "expected a number, found the whole number {v}, too long to read as one; write it with an exponent (`{approx:e}`)"
    ))
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(NumVisitor)?;
        if v.is_finite() {
            Ok(Num(v))
        } else {
            Err(de::Error::custom(format!(
                "expected a finite number, found {}",
                yaml_float(v)
            )))
        }
    }
}

impl JsonSchema for Num {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "FiniteNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "description": "A finite number (no .nan or .inf)." })
    }
}

/// A whole number as written, kept wide so that a value beyond a field's range (or beyond
/// any integer type, `18446744073709551616`) is reported against that field's own limits
/// rather than as a type error. An integral float (`1.2e6`) is a whole number too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Whole {
    /// The number, saturated to the range of `i128`.
    pub value: i128,
    /// The float it was written as (`1e300`), for messages.
    pub float: Option<f64>,
}

impl Whole {
    fn int(value: i128) -> Whole {
        Whole { value, float: None }
    }
}

impl fmt::Display for Whole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.float {
            Some(x) => f.write_str(&crate::limits::show(x)),
            None => write!(f, "{}", self.value),
        }
    }
}

/// A count of days as written (`cure_days`, a shock's `day`, `engine.days`): a whole
/// number ≥ 0, kept wide like [`Whole`] so that a value out of range is reported against
/// the field's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Days(pub i128);

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor("a whole number of days ≥ 0"))
            .map(|w| Days(w.value))
    }
}

impl JsonSchema for Days {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Days".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "description": "A whole number of trading days ≥ 0." })
    }
}

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor("a whole number ≥ 1"))
    }
}

/// Reads a whole number (or an integral float); the text says what was expected.
struct WholeVisitor(&'static str);

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
        Ok(Whole::int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
        Ok(Whole::int(i128::from(v)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Whole, E> {
        Ok(Whole::int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Whole, E> {
        Ok(Whole::int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
        if v.is_finite() && v.fract() == 0.0 {
            // Saturating: only the range check reads values this large.
            Ok(Whole {
                value: v as i128,
                float: Some(v),
            })
        } else if v.is_finite() {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        } else {
            Err(E::custom(format!(
                "expected a finite number, found {}",
                yaml_float(v)
            )))
        }
    }
}

impl JsonSchema for Whole {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "WholeNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "description": "A whole number ≥ 1." })
    }
}
