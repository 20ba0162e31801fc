//! Event contents to JSON, driven by the Move type registry
//! (`floe_core::move_types::MOVE_TYPES`).
//!
//! The registry lists every event's fields with their Move types, so one
//! small BCS reader covers every event floe mirrors today and every event
//! the staking and governance contracts add later, without a hand-written
//! decoder per event. Integers wider than 53 bits are JSON strings (an
//! explorer in JavaScript must not round them); `u256` values named
//! `blob_id` are shown as Walrus blob ids (URL-safe base64), other `u256`
//! as decimal; `ID`/`address` as `0x` + 64 hex digits.

use floe_core::move_types::{MOVE_TYPES, MoveField, MovePackage, MoveRole, MoveTypeKind};
use serde_json::{Map, Value};

/// Why event contents did not decode with the registered layout.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("contents end inside field {field}")]
    Truncated { field: String },
    #[error("{extra} trailing bytes after the last field")]
    Trailing { extra: usize },
    #[error("field {field}: unsupported Move type {ty}")]
    Unsupported { field: String, ty: String },
    #[error("field {field}: invalid value ({reason})")]
    Invalid { field: String, reason: String },
}

/// Vectors longer than this inside one event are refused: events are at
/// most a few KiB on Sui, so a larger length means a corrupt layout.
const MAX_VECTOR: u64 = 1 << 16;

/// The registered layout of event `module::name` of `package`, if floe
/// mirrors it.
pub fn event_fields(
    package: MovePackage,
    module: &str,
    name: &str,
) -> Option<&'static [MoveField]> {
    MOVE_TYPES
        .iter()
        .find(|t| {
            t.package == package
                && t.role == MoveRole::Event
                && t.module == module
                && t.name == name
        })
        .and_then(|t| match t.kind {
            MoveTypeKind::Struct(fields) => Some(fields),
            MoveTypeKind::Enum(_) => None,
        })
}

/// Decodes BCS `bytes` of a struct with `fields` into a JSON object.
pub fn decode_struct(fields: &[MoveField], bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader { bytes, at: 0 };
    let mut out = Map::new();
    for field in fields {
        let value = reader.value(field.name, field.ty.trim())?;
        out.insert(field.name.to_owned(), value);
    }
    let extra = bytes.len() - reader.at;
    if extra != 0 {
        return Err(DecodeError::Trailing { extra });
    }
    Ok(Value::Object(out))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, field: &str, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(DecodeError::Truncated {
                field: field.to_owned(),
            });
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn uleb(&mut self, field: &str) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(field, 1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Invalid {
            field: field.to_owned(),
            reason: "ULEB128 length longer than 64 bits".into(),
        })
    }

    fn fixed<const N: usize>(&mut self, field: &str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn value(&mut self, field: &str, ty: &str) -> Result<Value, DecodeError> {
        Ok(match ty {
            "bool" => match self.take(field, 1)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(DecodeError::Invalid {
                        field: field.to_owned(),
                        reason: format!("bool byte {b}"),
                    });
                }
            },
            "u8" => Value::from(self.take(field, 1)?[0]),
            "u16" => Value::from(u16::from_le_bytes(self.fixed(field)?)),
            "u32" => Value::from(u32::from_le_bytes(self.fixed(field)?)),
            "u64" => big(u64::from_le_bytes(self.fixed(field)?).into()),
            "u128" => big(u128::from_le_bytes(self.fixed(field)?)),
            "u256" => {
                let raw: [u8; 32] = self.fixed(field)?;
                if field.contains("blob_id") {
                    Value::String(floe_core::BlobId(raw).to_string())
                } else {
                    Value::String(alloy_u256_decimal(raw))
                }
            }
            "ID" | "UID" | "address" => {
                let raw: [u8; 32] = self.fixed(field)?;
                Value::String(format!("0x{}", hex::encode(raw)))
            }
            "vector<u8>" | "String" | "string::String" | "ascii::String" => {
                let len = self.len(field)?;
                let bytes = self.take(field, len)?;
                match std::str::from_utf8(bytes) {
                    Ok(s) if ty != "vector<u8>" => Value::String(s.to_owned()),
                    _ => Value::String(format!("0x{}", hex::encode(bytes))),
                }
            }
            _ => {
                if let Some(inner) = ty.strip_prefix("vector<").and_then(|t| t.strip_suffix('>')) {
                    let len = self.len(field)?;
                    let mut items = Vec::with_capacity(len.min(1024));
                    for _ in 0..len {
                        items.push(self.value(field, inner.trim())?);
                    }
                    Value::Array(items)
                } else if let Some(inner) =
                    ty.strip_prefix("Option<").and_then(|t| t.strip_suffix('>'))
                {
                    match self.take(field, 1)?[0] {
                        0 => Value::Null,
                        1 => self.value(field, inner.trim())?,
                        b => {
                            return Err(DecodeError::Invalid {
                                field: field.to_owned(),
                                reason: format!("option tag {b}"),
                            });
                        }
                    }
                } else if let Some(info) = MOVE_TYPES
                    .iter()
                    .find(|t| t.name == ty && t.type_params.is_empty())
                {
                    // A registered struct or enum by value (e.g.
                    // `governance::ParameterChange` in its events): decoded
                    // from the same registry, so it cannot drift either.
                    match info.kind {
                        MoveTypeKind::Struct(fields) => {
                            let mut object = serde_json::Map::new();
                            for f in fields {
                                object.insert(f.name.to_owned(), self.value(field, f.ty)?);
                            }
                            Value::Object(object)
                        }
                        MoveTypeKind::Enum(variants) => {
                            let tag = self.uleb(field)?;
                            let variant = usize::try_from(tag)
                                .ok()
                                .and_then(|t| variants.get(t))
                                .ok_or_else(|| DecodeError::Invalid {
                                field: field.to_owned(),
                                reason: format!("{ty} has no variant {tag}"),
                            })?;
                            let mut fields = serde_json::Map::new();
                            for f in variant.fields {
                                fields.insert(f.name.to_owned(), self.value(field, f.ty)?);
                            }
                            serde_json::json!({ "variant": variant.name, "fields": fields })
                        }
                    }
                } else {
                    return Err(DecodeError::Unsupported {
                        field: field.to_owned(),
                        ty: ty.to_owned(),
                    });
                }
            }
        })
    }

    fn len(&mut self, field: &str) -> Result<usize, DecodeError> {
        let len = self.uleb(field)?;
        if len > MAX_VECTOR {
            return Err(DecodeError::Invalid {
                field: field.to_owned(),
                reason: format!("vector length {len} above {MAX_VECTOR}"),
            });
        }
        usize::try_from(len).map_err(|_| DecodeError::Invalid {
            field: field.to_owned(),
            reason: "length does not fit".into(),
        })
    }
}

/// JSON numbers are doubles: integers above 2^53 become strings.
/// A `u64` as the event JSON writes it: a number up to 2^53, else a
/// decimal string.
pub fn json_u64(v: u64) -> Value {
    big(u128::from(v))
}

fn big(v: u128) -> Value {
    if v <= (1u128 << 53) {
        Value::from(v as u64)
    } else {
        Value::String(v.to_string())
    }
}

fn alloy_u256_decimal(le: [u8; 32]) -> String {
    floe_core::move_types::U256Le(le).to_u256().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::move_types::{BlobCertified, BlobRegistered, ObjectId, ShardsReceived, U256Le};

    #[test]
    fn every_registered_event_has_a_decodable_layout() {
        for t in MOVE_TYPES.iter().filter(|t| t.role == MoveRole::Event) {
            let MoveTypeKind::Struct(fields) = t.kind else {
                continue;
            };
            for f in fields {
                // Zero bytes must fail with Truncated, never Unsupported.
                let err = decode_struct(std::slice::from_ref(f), &[]).unwrap_err();
                assert!(
                    matches!(err, DecodeError::Truncated { .. }),
                    "{}::{} field {} ({}): {err}",
                    t.module,
                    t.name,
                    f.name,
                    f.ty
                );
            }
        }
    }

    #[test]
    fn blob_registered_round_trip() {
        let event = BlobRegistered {
            epoch: 3,
            blob_id: U256Le([7; 32]),
            size: u64::MAX,
            encoding_type: 1,
            end_epoch: 9,
            deletable: true,
            object_id: ObjectId([0xab; 32]),
        };
        let bytes = bcs::to_bytes(&event).unwrap();
        let fields = event_fields(MovePackage::Walrus, "events", "BlobRegistered").unwrap();
        let json = decode_struct(fields, &bytes).unwrap();
        assert_eq!(json["epoch"], 3);
        assert_eq!(json["blob_id"], floe_core::BlobId([7; 32]).to_string());
        assert_eq!(json["size"], u64::MAX.to_string());
        assert_eq!(json["deletable"], true);
        assert_eq!(json["object_id"], format!("0x{}", "ab".repeat(32)));
        // One byte short and one byte long are both refused.
        assert!(decode_struct(fields, &bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            decode_struct(fields, &long),
            Err(DecodeError::Trailing { extra: 1 })
        );
    }

    #[test]
    fn vectors_and_bools() {
        let event = ShardsReceived {
            epoch: 1,
            shards: vec![1, 2, 300],
        };
        let fields = event_fields(MovePackage::Walrus, "events", "ShardsReceived").unwrap();
        let json = decode_struct(fields, &bcs::to_bytes(&event).unwrap()).unwrap();
        assert_eq!(json["shards"], serde_json::json!([1, 2, 300]));
        let certified = BlobCertified {
            epoch: 0,
            blob_id: U256Le([1; 32]),
            end_epoch: 2,
            deletable: false,
            object_id: ObjectId([2; 32]),
            is_extension: false,
        };
        let mut bytes = bcs::to_bytes(&certified).unwrap();
        let fields = event_fields(MovePackage::Walrus, "events", "BlobCertified").unwrap();
        let last = bytes.len() - 1;
        bytes[last] = 2; // not a bool
        assert!(matches!(
            decode_struct(fields, &bytes),
            Err(DecodeError::Invalid { .. })
        ));
    }
}
