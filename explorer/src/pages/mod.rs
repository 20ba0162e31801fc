//! The pages: one module each, sharing the layout, error pages, paging
//! links and small readers of the indexer's JSON rows.
//!
//! Every page is complete HTML from the server (no JavaScript at all: the
//! `Content-Security-Policy` forbids scripts), with a few hundred bytes of
//! inline CSS that lays tables out as cards on a narrow screen.

pub mod account;
pub mod blob;
pub mod epochs;
pub mod governance;
pub mod home;
pub mod nodes;
pub mod search;

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::format;
use crate::indexer::FetchError;

/// Default rows per list page.
pub const DEFAULT_PAGE: i64 = 25;
/// Most rows per list page.
pub const MAX_PAGE: i64 = 200;
/// Longest cursor passed on to the indexer (ids and positions are short).
const MAX_CURSOR_LEN: usize = 100;

const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}\
header{background:#123;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}\
header a{color:#cfe3ff;text-decoration:none}header .brand{font-weight:700;color:#fff}\
header form{margin-left:auto;display:flex;gap:.3rem;flex:1 1 16rem;max-width:32rem}\
header input{flex:1;min-width:0;padding:.35rem .5rem;border-radius:4px;border:0}\
header button{padding:.35rem .7rem;border:0;border-radius:4px;background:#4a8af4;color:#fff}\
main{max-width:72rem;margin:0 auto;padding:1rem}\
h1{font-size:1.35rem;margin:.2rem 0 .8rem;word-break:break-all}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}\
a{color:#1a5fd0}code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem}\
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.6rem .8rem}\
.card b{display:block;font-size:1.15rem}.card small{color:#5a6470}\
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #dde1e6}\
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #eef0f2;vertical-align:top}\
th{background:#f0f2f5;font-weight:600;font-size:.85rem}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;border:1px solid #dde1e6;padding:.7rem;border-radius:6px}\
dt{color:#5a6470}dd{margin:0;word-break:break-all}\
.status{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;font-weight:600;background:#e4e7eb}\
.st-certified{background:#d3f3dc;color:#135c2a}.st-deleted,.st-invalid{background:#fbd9d6;color:#8a1c12}\
.st-expired{background:#eee2c4;color:#6a4a05}.st-registered{background:#dde8fb;color:#173f85}\
.st-open,.st-quorum{background:#dde8fb;color:#173f85}\
.st-passed,.st-applied,.st-authorized,.st-upgraded,.st-executed{background:#d3f3dc;color:#135c2a}\
.filters{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.4rem 0 .8rem}\
.timeline{list-style:none;padding:0;margin:0;border-left:3px solid #c4cdd8}\
.timeline li{position:relative;margin:0 0 .7rem 1rem;background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.4rem .6rem}\
.timeline li:before{content:'';position:absolute;left:-1.45rem;top:.7rem;width:.7rem;height:.7rem;border-radius:50%;background:#4a8af4}\
.pager{display:flex;gap:1rem;margin:.6rem 0}.muted{color:#5a6470}\
.chart-box{margin:0;background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.5rem}\
.chart{width:100%;height:auto;display:block}.chart .bar{fill:#7aa7f0}.chart .line{fill:none;stroke:#d9480f;stroke-width:2}\
.chart .point{fill:#d9480f}.chart .axis{font-size:11px;fill:#5a6470}.chart .axis-line{fill:none;stroke:#9aa4ae}\
.chart .shard-label{font-size:8px;fill:#fff}figcaption{font-size:.85rem;color:#5a6470}\
.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .6rem;vertical-align:middle;border-radius:2px}\
.key-bar{background:#7aa7f0}.key-line{background:#d9480f}\
@media(max-width:40rem){table.rows thead{display:none}table.rows tr{display:block;border-bottom:2px solid #dde1e6}\
table.rows td{display:flex;gap:.5rem;border:0;padding:.2rem .5rem}table.rows td:before{content:attr(data-label);min-width:7rem;color:#5a6470}}\
footer{max-width:72rem;margin:1rem auto;padding:0 1rem;color:#5a6470;font-size:.8rem}";

/// The page around `body`. `checkpoint` is the chain state the page
/// shows, from the indexer's answer.
pub fn layout(title: &str, checkpoint: Option<i64>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No favicon request (it would only be a 404).
                link rel="icon" href="data:,";
                title { (title) " · floe explorer" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a.brand href="/" { "floe explorer" }
                    a href="/blobs" { "Blobs" }
                    a href="/epochs" { "Epochs" }
                    a href="/nodes" { "Nodes" }
                    a href="/governance" { "Governance" }
                    form action="/search" method="get" role="search" {
                        input type="search" name="q" placeholder="Blob id, object id, address or epoch"
                            aria-label="Search" required;
                        button type="submit" { "Search" }
                    }
                }
                main { (body) }
                footer {
                    @match checkpoint {
                        Some(c) => { "Indexed up to checkpoint " (format::count(c)) "." }
                        None => { "The indexer has not indexed a checkpoint yet." }
                    }
                    " Times are UTC; 1 WAL = 10⁹ FROST."
                }
            }
        }
    }
}

/// Headers every HTML answer carries: no scripts may run, no framing.
fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A rendered page.
pub struct Page(pub Markup);

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        html_response(StatusCode::OK, self.0)
    }
}

/// A page that could not be shown: 400 (bad input, with the reason), 404
/// (not indexed) or 502 (the indexer is unavailable).
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub reason: String,
}

impl PageError {
    pub fn bad(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    pub fn not_found(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }
}

impl From<FetchError> for PageError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::NotFound(reason) => Self::not_found(reason),
            FetchError::BadRequest(reason) => Self::bad(reason),
            FetchError::Unavailable(reason) => {
                tracing::warn!(%reason, "indexer call failed");
                Self {
                    status: StatusCode::BAD_GATEWAY,
                    reason: "the indexer is unavailable right now; try again in a moment".into(),
                }
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (title, lead) = match self.status {
            StatusCode::NOT_FOUND => ("Not found", "Nothing is indexed under that name."),
            StatusCode::BAD_REQUEST => ("Bad request", "That input cannot be looked up."),
            StatusCode::METHOD_NOT_ALLOWED => ("Method not allowed", "Pages are only read."),
            StatusCode::REQUEST_TIMEOUT => ("Timed out", "The page took too long to build."),
            s if s.is_client_error() => ("Refused", "The request cannot be answered."),
            _ => ("Unavailable", "The page could not be built."),
        };
        let body = html! {
            h1 { (title) }
            p { (lead) }
            p.reason { (self.reason) }
            p { a href="/" { "Back to the overview" } " or search above for a blob id, object id or address." }
        };
        html_response(self.status, layout(title, None, body))
    }
}

pub type PageResult = Result<Page, PageError>;

/// The query of a page, refusing names it does not know (a typo would
/// otherwise silently show an unfiltered list).
pub struct Query {
    map: HashMap<String, String>,
}

impl Query {
    pub fn new(map: HashMap<String, String>, known: &[&str]) -> Result<Self, PageError> {
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(PageError::bad(format!(
                "unknown parameter {unknown:?} (this page knows: {})",
                known.join(", ")
            )));
        }
        Ok(Self { map })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `limit`, 1..=[`MAX_PAGE`].
    pub fn limit(&self) -> Result<i64, PageError> {
        match self.text("limit") {
            None => Ok(DEFAULT_PAGE),
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    PageError::bad(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}, got {raw:?}"
                    ))
                }),
        }
    }

    /// A cursor from a previous page (checked by the indexer; only its
    /// length is bounded here).
    pub fn cursor(&self, name: &str) -> Result<Option<String>, PageError> {
        match self.text(name) {
            Some(c) if c.len() > MAX_CURSOR_LEN => Err(PageError::bad(format!(
                "{name} is longer than {MAX_CURSOR_LEN} characters"
            ))),
            c => Ok(c.map(str::to_owned)),
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&...` with values encoded.
pub fn link(path: &str, params: &[(&str, String)]) -> String {
    let mut out = path.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// "First page" and "Next page" links of a keyset-paged list: `cursor`
/// is the indexer's `next_cursor`, passed back as `cursor_param`.
pub fn pager(
    path: &str,
    keep: &[(&str, String)],
    cursor_param: &str,
    current: Option<&str>,
    next: Option<&str>,
) -> Markup {
    let next_href = next.map(|next| {
        let mut params = keep.to_vec();
        params.push((cursor_param, next.to_owned()));
        link(path, &params)
    });
    html! {
        nav.pager aria-label="pages" {
            @if current.is_some() {
                a.first href=(link(path, keep)) { "« First page" }
            }
            @if let Some(href) = next_href {
                a.next rel="next" href=(href) { "Next page »" }
            } @else {
                span.muted.last-page { "Last page" }
            }
        }
    }
}

/// An integer field of a row.
pub fn int(row: &Value, key: &str) -> Option<i64> {
    row.get(key).and_then(Value::as_i64)
}

/// A text field of a row.
pub fn text<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

/// The rows of a list answer.
pub fn rows(data: &Value) -> &[Value] {
    data.as_array().map_or(&[], Vec::as_slice)
}

/// `—` for a missing value.
pub fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

/// A blob's status as a coloured badge.
pub fn status_badge(status: &str) -> Markup {
    html! { span class={ "status st-" (status) } { (status) } }
}

/// A link to an account page.
pub fn account_link(address: &str) -> Markup {
    html! { a.id href={ "/accounts/" (address) } title=(address) { (format::short(address)) } }
}

/// A link to a node page.
pub fn node_link(node_id: &str, name: Option<&str>) -> Markup {
    html! {
        a.id href={ "/nodes/" (node_id) } title=(node_id) {
            (name.map_or_else(|| format::short(node_id), str::to_owned))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_values() {
        assert_eq!(
            link("/a", &[("q", "x y&z".into()), ("n", "1".into())]),
            "/a?q=x%20y%26z&n=1"
        );
        assert_eq!(link("/a", &[]), "/a");
    }

    #[test]
    fn queries_refuse_unknown_names_and_bad_limits() {
        let q = |pairs: &[(&str, &str)]| {
            Query::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                &["limit", "cursor"],
            )
        };
        assert!(q(&[("limt", "3")]).is_err());
        assert_eq!(q(&[]).unwrap().limit().unwrap(), DEFAULT_PAGE);
        assert!(q(&[("limit", "0")]).unwrap().limit().is_err());
        assert!(q(&[("limit", "201")]).unwrap().limit().is_err());
        assert!(q(&[("limit", "x")]).unwrap().limit().is_err());
        let long = "9".repeat(101);
        assert!(q(&[("cursor", &long)]).unwrap().cursor("cursor").is_err());
    }

    #[test]
    fn error_pages_carry_status_and_reason() {
        let r = PageError::bad("limit must be <b>small</b>").into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = PageError::from(FetchError::NotFound("no blob".into())).into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = PageError::from(FetchError::Unavailable("refused".into())).into_response();
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    }
}
