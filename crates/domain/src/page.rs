//! Page sizes and opaque page tokens for list calls.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::FieldError;

/// A page size within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// `requested` as a page size: `default` when 0, refused above `max`.
    pub fn new(field: &str, requested: u32, default: u32, max: u32) -> Result<Self, FieldError> {
        match requested {
            0 => Ok(Self(default)),
            n if n > max => Err(FieldError::new(field, format!("must be at most {max}"))),
            n => Ok(Self(n)),
        }
    }

    /// The number of rows a page holds at most.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Where a page starts: the sort key of the last row of the previous page.
/// Clients see it only as an opaque string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(Vec<String>);

const MAX_TOKEN_LEN: usize = 2048;

impl PageToken {
    /// A token resuming after the row with this sort key.
    pub fn after(key: Vec<String>) -> Self {
        Self(key)
    }

    /// The sort key to resume after.
    pub fn key(&self) -> &[String] {
        &self.0
    }

    /// Encodes the token for the client.
    pub fn encode(&self) -> String {
        let json = serde_json_compact(&self.0);
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a client's token; an empty string is the first page.
    /// `parts` is how many key parts the list expects.
    pub fn decode(field: &str, raw: &str, parts: usize) -> Result<Option<Self>, FieldError> {
        if raw.is_empty() {
            return Ok(None);
        }
        let invalid = || FieldError::new(field, "is not a token returned by this list");
        if raw.len() > MAX_TOKEN_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let key: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if key.len() != parts {
            return Err(invalid());
        }
        Ok(Some(Self(key)))
    }
}

fn serde_json_compact(key: &[String]) -> Vec<u8> {
    serde_json::to_vec(key).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let token = PageToken::after(vec!["gym24-tomsk".into(), "x".into()]);
        let decoded = PageToken::decode("page_token", &token.encode(), 2).unwrap();
        assert_eq!(decoded, Some(token.clone()));
        assert_eq!(PageToken::decode("page_token", "", 2).unwrap(), None);
        assert!(PageToken::decode("page_token", "%%%", 2).is_err());
        assert!(PageToken::decode("page_token", &token.encode(), 1).is_err());
    }

    #[test]
    fn page_size_defaults_and_bounds() {
        assert_eq!(PageSize::new("page_size", 0, 50, 500).unwrap().get(), 50);
        assert_eq!(PageSize::new("page_size", 500, 50, 500).unwrap().get(), 500);
        assert_eq!(
            PageSize::new("page_size", 501, 50, 500).unwrap_err().field,
            "page_size"
        );
    }
}
