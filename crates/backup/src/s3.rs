//! S3-compatible repositories: a small `rustic_core::WriteBackend` over the
//! S3 REST API (path-style addressing, AWS Signature Version 4), written on
//! the HTTP client and hashes the workspace already has (ureq, sha2, hmac)
//! instead of opendal. Objects are laid out as restic lays them out in a
//! bucket: `PREFIX/config`, `PREFIX/keys/ID`, `PREFIX/data/XX/ID`, ...
//!
//! Credentials come from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
//! (`AWS_SESSION_TOKEN` when set), the region from `AWS_DEFAULT_REGION` or
//! `AWS_REGION` (default `us-east-1`). Neither the secret key nor a signature
//! is ever part of an error.

use crate::{Error, Location};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RepositoryBackends, RusticError, RusticResult,
    WriteBackend,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Largest object read (a pack is at most a few hundred MiB).
const MAX_OBJECT: u64 = 4 << 30;
/// Largest listing page or error body read.
const MAX_SMALL: u64 = 16 << 20;

pub(crate) fn backends(loc: &Location) -> Result<RepositoryBackends, Error> {
    let Location::S3 {
        endpoint,
        bucket,
        prefix,
    } = loc
    else {
        return Err(Error::BadLocation(loc.display()));
    };
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(access), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err(Error::BadLocation(format!(
            "{}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            loc.display()
        )));
    };
    let region = var("AWS_DEFAULT_REGION")
        .or_else(|| var("AWS_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_secs(600)))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
        .build();
    let host = endpoint
        .split_once("://")
        .map(|(_, h)| h.to_string())
        .unwrap_or_default();
    let be = S3 {
        agent: ureq::Agent::new_with_config(config),
        endpoint: endpoint.clone(),
        host,
        bucket: bucket.clone(),
        prefix: prefix.clone(),
        access,
        secret,
        token: var("AWS_SESSION_TOKEN"),
        region,
        shown: loc.display(),
    };
    Ok(RepositoryBackends::new(Arc::new(be), None))
}

struct S3 {
    agent: ureq::Agent,
    endpoint: String,
    host: String,
    bucket: String,
    prefix: String,
    access: String,
    secret: String,
    token: Option<String>,
    region: String,
    shown: String,
}

fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// RFC 3986 percent-encoding as SigV4 wants it (`/` kept in paths).
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` now.
fn amz_date() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let iso = model::Timestamp(now * 1_000_000).iso(); // 2026-01-05T08:00:50.000000Z
    let digits: String = iso
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit())
        .collect();
    format!("{}T{}Z", &digits[..8], &digits[8..14])
}

fn backend_err(what: &str, why: String) -> Box<RusticError> {
    RusticError::new(ErrorKind::Backend, "S3 {what}: {why}")
        .attach_context("what", what.to_string())
        .attach_context("why", crate::clean(&why))
}

/// The text of an S3 XML element's occurrences (`<Key>…</Key>`), unescaped.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest: &'a str = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(
            after[..j]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[j + close.len()..];
    }
    out
}

impl S3 {
    fn key(&self, tpe: FileType, id: &Id) -> String {
        let h = id.to_hex();
        let name = match tpe {
            FileType::Config => "config".to_string(),
            FileType::Pack => format!("data/{}/{}", &h[0..2], &h[..]),
            _ => format!("{}/{}", tpe.dirname(), &h[..]),
        };
        if self.prefix.is_empty() {
            name
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// One signed request; returns status and body (at most `limit` bytes).
    fn request(
        &self,
        method: &str,
        key: &str,
        query: &[(&str, String)],
        body: &[u8],
        range: Option<(u32, u32)>,
        limit: u64,
    ) -> RusticResult<(u16, Vec<u8>)> {
        let path = if key.is_empty() {
            format!("/{}", self.bucket)
        } else {
            format!("/{}/{}", self.bucket, encode(key, true))
        };
        let mut q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (encode(k, false), encode(v, false)))
            .collect();
        q.sort();
        let qs = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let date = amz_date();
        let day = &date[..8];
        let payload = hex(Sha256::digest(body).as_slice());
        let mut headers = vec![
            ("host".to_string(), self.host.clone()),
            ("x-amz-content-sha256".to_string(), payload.clone()),
            ("x-amz-date".to_string(), date.clone()),
        ];
        if let Some(t) = &self.token {
            headers.push(("x-amz-security-token".to_string(), t.clone()));
        }
        let signed = headers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical = format!(
            "{method}\n{path}\n{qs}\n{}\n{signed}\n{payload}",
            headers
                .iter()
                .map(|(k, v)| format!("{k}:{}\n", v.trim()))
                .collect::<String>()
        );
        let scope = format!("{day}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            hex(Sha256::digest(canonical.as_bytes()).as_slice())
        );
        let k = hmac(format!("AWS4{}", self.secret).as_bytes(), day);
        let k = hmac(&k, &self.region);
        let k = hmac(&k, "s3");
        let k = hmac(&k, "aws4_request");
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={}",
            self.access,
            hex(&hmac(&k, &to_sign))
        );
        let url = if qs.is_empty() {
            format!("{}{path}", self.endpoint)
        } else {
            format!("{}{path}?{qs}", self.endpoint)
        };
        let fail = |e: ureq::Error| backend_err(&format!("{method} {key}"), e.to_string());
        let resp = {
            let mut hs: Vec<(String, String)> =
                headers.into_iter().filter(|(k, _)| k != "host").collect();
            hs.push(("authorization".into(), auth));
            if let Some((off, len)) = range {
                let end = u64::from(off) + u64::from(len.max(1)) - 1;
                hs.push(("range".into(), format!("bytes={off}-{end}")));
            }
            match method {
                "PUT" => {
                    let mut r = self.agent.put(&url);
                    for (k, v) in &hs {
                        r = r.header(k, v);
                    }
                    r.send(body).map_err(fail)?
                }
                "GET" | "DELETE" | "HEAD" => {
                    let mut r = match method {
                        "GET" => self.agent.get(&url),
                        "DELETE" => self.agent.delete(&url),
                        _ => self.agent.head(&url),
                    };
                    for (k, v) in &hs {
                        r = r.header(k, v);
                    }
                    r.call().map_err(fail)?
                }
                _ => return Err(backend_err(method, "unsupported method".into())),
            }
        };
        let status = resp.status().as_u16();
        let data = if method == "HEAD" {
            Vec::new()
        } else {
            resp.into_body()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(fail)?
        };
        Ok((status, data))
    }

    fn expect_ok(&self, what: &str, status: u16, body: &[u8]) -> RusticResult<()> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        let code = elements(&String::from_utf8_lossy(body), "Code")
            .into_iter()
            .next()
            .unwrap_or_default();
        Err(backend_err(
            what,
            format!("HTTP {status} {code} from {}", self.shown),
        ))
    }

    /// Every key under `dir/` with its size.
    fn list_keys(&self, dir: &str) -> RusticResult<Vec<(String, u64)>> {
        let prefix = if self.prefix.is_empty() {
            format!("{dir}/")
        } else {
            format!("{}/{dir}/", self.prefix)
        };
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = vec![("list-type", "2".to_string()), ("prefix", prefix.clone())];
            if let Some(t) = &token {
                q.push(("continuation-token", t.clone()));
            }
            let (status, body) = self.request("GET", "", &q, b"", None, MAX_SMALL)?;
            self.expect_ok(&format!("list {dir}"), status, &body)?;
            let xml = String::from_utf8_lossy(&body);
            for c in elements(&xml, "Contents") {
                let key = elements(&c, "Key").into_iter().next().unwrap_or_default();
                let size = elements(&c, "Size")
                    .into_iter()
                    .next()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                out.push((key, size));
            }
            let truncated =
                elements(&xml, "IsTruncated").first().map(String::as_str) == Some("true");
            token = elements(&xml, "NextContinuationToken").into_iter().next();
            if !truncated || token.is_none() {
                break;
            }
        }
        Ok(out)
    }
}

impl ReadBackend for S3 {
    fn location(&self) -> String {
        self.shown.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let key = self.key(tpe, &Id::default());
            let (status, body) = self.request("HEAD", &key, &[], b"", None, 0)?;
            return match status {
                404 => Ok(Vec::new()),
                _ => {
                    self.expect_ok("config", status, &body)?;
                    Ok(vec![(Id::default(), 0)])
                }
            };
        }
        let mut out = Vec::new();
        for (key, size) in self.list_keys(tpe.dirname())? {
            let name = key.rsplit('/').next().unwrap_or_default();
            if let Ok(id) = name.parse::<Id>() {
                out.push((id, u32::try_from(size).unwrap_or(u32::MAX)));
            }
        }
        Ok(out)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let key = self.key(tpe, id);
        let (status, body) = self.request("GET", &key, &[], b"", None, MAX_OBJECT)?;
        self.expect_ok(&format!("read {key}"), status, &body)?;
        Ok(body.into())
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let key = self.key(tpe, id);
        let (status, body) =
            self.request("GET", &key, &[], b"", Some((offset, length)), MAX_OBJECT)?;
        self.expect_ok(&format!("read {key}"), status, &body)?;
        if body.len() != length as usize {
            return Err(backend_err(
                &format!("read {key}"),
                format!("{} bytes instead of {length}", body.len()),
            ));
        }
        Ok(body.into())
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.key(tpe, id)
    }
}

impl WriteBackend for S3 {
    fn create(&self) -> RusticResult<()> {
        // The bucket must exist; creating it is the operator's job (and
        // needs rights a backup account should not have).
        let (status, body) = self.request("HEAD", "", &[], b"", None, 0)?;
        self.expect_ok("bucket", status, &body)
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let key = self.key(tpe, id);
        let mut data = Vec::with_capacity(content.size());
        for b in content.into_vec() {
            data.extend_from_slice(&b);
        }
        let (status, body) = self.request("PUT", &key, &[], &data, None, MAX_SMALL)?;
        self.expect_ok(&format!("write {key}"), status, &body)
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let key = self.key(tpe, id);
        let (status, body) = self.request("DELETE", &key, &[], b"", None, MAX_SMALL)?;
        if status == 404 {
            return Ok(());
        }
        self.expect_ok(&format!("remove {key}"), status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_matches_the_aws_example() {
        // AWS SigV4 documentation example: the signing key for
        // 20120215/us-east-1/iam with this secret.
        let k = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215");
        let k = hmac(&k, "us-east-1");
        let k = hmac(&k, "iam");
        let k = hmac(&k, "aws4_request");
        assert_eq!(
            hex(&k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn listings_are_read_and_unescaped() {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>r/keys/ab&amp;c</Key><Size>12</Size></Contents><Contents><Key>r/keys/d</Key><Size>3</Size></Contents></ListBucketResult>";
        let c = elements(xml, "Contents");
        assert_eq!(c.len(), 2);
        assert_eq!(elements(&c[0], "Key"), ["r/keys/ab&c"]);
        assert_eq!(encode("a b/c", true), "a%20b/c");
        assert_eq!(amz_date().len(), 16);
    }
}
