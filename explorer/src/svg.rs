//! Charts as inline SVG, built by hand.
//!
//! Why not `plotters`: its SVG backend needs a font stack to lay out text
//! (or leaves labels out), and pulls more crates than these three charts
//! are worth. Inline SVG built with the page's own template engine costs
//! nothing to compile, renders without JavaScript, scales with the page
//! (`viewBox` plus `width: 100%`), and each mark carries a `<title>`, the
//! tooltip a browser shows on hover or long-press.
//!
//! Marks have classes (`bar`, `point`, `shard`) so a test can count them.

use maud::{Markup, html};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 64.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// One series: a name for the legend and its values, formatted by `fmt`.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [f64],
    pub fmt: fn(f64) -> String,
}

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_height() -> f64 {
    HEIGHT - TOP - BOTTOM
}

fn max_of(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// y coordinate of `v` on a scale from 0 to `max`.
fn y_of(v: f64, max: f64) -> f64 {
    let ratio = if max > 0.0 {
        (v / max).clamp(0.0, 1.0)
    } else {
        0.0
    };
    TOP + plot_height() * (1.0 - ratio)
}

/// Which of `n` x labels to print (about ten at most).
fn label_every(n: usize) -> usize {
    n.div_ceil(10).max(1)
}

fn r1(v: f64) -> String {
    format!("{v:.1}")
}

/// Bars for one series against the left axis and a line with points for
/// another against the right axis, over the same `labels` (say epochs).
pub fn bars_and_line(title: &str, labels: &[String], bars: Series, line: Series) -> Markup {
    let n = labels.len().max(1);
    let step = plot_width() / n as f64;
    let bar_max = max_of(bars.values);
    let line_max = max_of(line.values);
    let points: Vec<(f64, f64)> = line
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| (LEFT + step * (i as f64 + 0.5), y_of(*v, line_max)))
        .collect();
    let path = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{} {}", if i == 0 { "M" } else { "L" }, r1(*x), r1(*y)))
        .collect::<Vec<_>>()
        .join(" ");
    let every = label_every(n);
    html! {
        figure.chart-box {
            svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                title { (title) }
                (axes())
                text.axis x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { ((bars.fmt)(bar_max)) }
                text.axis x=(LEFT - 6.0) y=(TOP + plot_height()) text-anchor="end" { ((bars.fmt)(0.0)) }
                text.axis.line-axis x=(WIDTH - RIGHT + 6.0) y=(TOP + 4.0) { ((line.fmt)(line_max)) }
                text.axis.line-axis x=(WIDTH - RIGHT + 6.0) y=(TOP + plot_height()) { ((line.fmt)(0.0)) }
                @for (i, v) in bars.values.iter().enumerate() {
                    @let y = y_of(*v, bar_max);
                    rect.bar x=(r1(LEFT + step * i as f64 + step * 0.15)) y=(r1(y))
                        width=(r1((step * 0.7).max(1.0))) height=(r1(TOP + plot_height() - y)) {
                        title { (labels.get(i).map_or("", String::as_str)) ": " ((bars.fmt)(*v)) }
                    }
                }
                @if !points.is_empty() {
                    path.line d=(path) {}
                }
                @for (i, (x, y)) in points.iter().enumerate() {
                    circle.point cx=(r1(*x)) cy=(r1(*y)) r="3" {
                        title {
                            (labels.get(i).map_or("", String::as_str)) ": "
                            ((line.fmt)(line.values.get(i).copied().unwrap_or(0.0)))
                        }
                    }
                }
                @for (i, label) in labels.iter().enumerate() {
                    @if i % every == 0 {
                        text.axis x=(r1(LEFT + step * (i as f64 + 0.5))) y=(HEIGHT - 8.0) text-anchor="middle" { (label) }
                    }
                }
            }
            figcaption {
                span.key.key-bar {} (bars.name) " (bars, left)  "
                span.key.key-line {} (line.name) " (line, right)"
            }
        }
    }
}

/// A step line with points: one series over x values (say epochs).
pub fn line(title: &str, xs: &[i64], series: Series) -> Markup {
    let n = xs.len().min(series.values.len());
    let max = max_of(&series.values[..n]);
    let (lo, hi) = match (xs.iter().take(n).min(), xs.iter().take(n).max()) {
        (Some(lo), Some(hi)) => (*lo, *hi),
        _ => (0, 0),
    };
    let span = (hi - lo).max(1) as f64;
    let x_of = |x: i64| {
        if n <= 1 {
            LEFT + plot_width() / 2.0
        } else {
            LEFT + plot_width() * (x - lo) as f64 / span
        }
    };
    let mut d = String::new();
    for (i, (x, v)) in xs.iter().zip(series.values).take(n).enumerate() {
        let (x, y) = (x_of(*x), y_of(*v, max));
        if i == 0 {
            d.push_str(&format!("M{} {}", r1(x), r1(y)));
        } else {
            // Hold the previous value until this x: values change at epochs.
            d.push_str(&format!(" H{} V{}", r1(x), r1(y)));
        }
    }
    html! {
        figure.chart-box {
            svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(title) {
                title { (title) }
                (axes())
                text.axis x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" { ((series.fmt)(max)) }
                text.axis x=(LEFT - 6.0) y=(TOP + plot_height()) text-anchor="end" { ((series.fmt)(0.0)) }
                @if n > 0 {
                    path.line d=(d) {}
                    text.axis x=(r1(x_of(lo))) y=(HEIGHT - 8.0) text-anchor="middle" { "epoch " (lo) }
                    @if hi != lo {
                        text.axis x=(r1(x_of(hi))) y=(HEIGHT - 8.0) text-anchor="middle" { "epoch " (hi) }
                    }
                }
                @for i in 0..n {
                    circle.point cx=(r1(x_of(xs[i]))) cy=(r1(y_of(series.values[i], max))) r="3" {
                        title { "epoch " (xs[i]) ": " ((series.fmt)(series.values[i])) }
                    }
                }
            }
            figcaption { span.key.key-line {} (series.name) }
        }
    }
}

fn axes() -> Markup {
    html! {
        path.axis-line d={
            "M" (LEFT) " " (TOP) " V" (TOP + plot_height()) " H" (WIDTH - RIGHT)
        } {}
    }
}

/// A distinct colour per committee member.
pub fn member_colour(i: usize) -> String {
    format!("hsl({}, 62%, 48%)", (i * 137 + 200) % 360)
}

/// The shard map: one square per shard, coloured by the member holding
/// it (`owners[shard]` indexes `names`; `None`: nobody).
pub fn shard_map(title: &str, owners: &[Option<usize>], names: &[String]) -> Markup {
    let n = owners.len();
    let columns = 25usize.min(n.max(1));
    let size = 24.0;
    let rows = n.div_ceil(columns).max(1);
    let width = columns as f64 * size;
    let height = rows as f64 * size;
    html! {
        figure.chart-box {
            svg.chart.shard-map viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(title)
                style={ "max-width:" (width * 1.5) "px" } {
                title { (title) }
                @for (shard, owner) in owners.iter().enumerate() {
                    @let (col, row) = (shard % columns, shard / columns);
                    @let fill = owner.map_or_else(|| "#ccc".to_owned(), member_colour);
                    rect.shard x=(col as f64 * size + 1.0) y=(row as f64 * size + 1.0)
                        width=(size - 2.0) height=(size - 2.0) fill=(fill) {
                        title {
                            "shard " (shard) ": "
                            (owner.and_then(|o| names.get(o)).map_or("unassigned", String::as_str))
                        }
                    }
                    @if n <= 200 {
                        text.shard-label x=(col as f64 * size + size / 2.0) y=(row as f64 * size + size / 2.0 + 4.0)
                            text-anchor="middle" { (shard) }
                    }
                }
            }
            figcaption {
                @for (i, name) in names.iter().enumerate() {
                    span.key style={ "background:" (member_colour(i)) } {} (name) "  "
                }
            }
        }
    }
}

/// A vote's tally as one bar over all `n_shards`: shards for from the
/// left (`rect.for`), against from the right (`rect.against`), the rest
/// not voted, and a mark at the quorum (`line.quorum`), so a reader sees
/// at a glance how far the proposal is from passing.
pub fn tally(votes_for: i64, votes_against: i64, quorum: i64, n_shards: i64) -> Markup {
    let (width, height, bar_top, bar_height) = (640.0, 74.0, 22.0, 26.0);
    let n = n_shards.max(votes_for + votes_against).max(1) as f64;
    let x = |shards: i64| r1(width * (shards.max(0) as f64 / n).min(1.0));
    let for_w = width * (votes_for.max(0) as f64 / n).min(1.0);
    let against_w = width * (votes_against.max(0) as f64 / n).min(1.0);
    let q = quorum.clamp(0, n as i64);
    let title = format!(
        "{votes_for} shards for, {votes_against} against, of {n_shards}; a quorum is {quorum}"
    );
    html! {
        figure.chart-box {
            svg.chart.tally viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(title) {
                title { (title) }
                rect.track x="0" y=(bar_top) width=(width) height=(bar_height) fill="#e4e7eb" {}
                rect.for x="0" y=(bar_top) width=(r1(for_w)) height=(bar_height) fill="#2f9e44" {
                    title { (votes_for) " shards for" }
                }
                rect.against x=(r1(width - against_w)) y=(bar_top) width=(r1(against_w))
                    height=(bar_height) fill="#e03131" {
                    title { (votes_against) " shards against" }
                }
                line.quorum x1=(x(q)) x2=(x(q)) y1=(bar_top - 6.0) y2=(bar_top + bar_height + 6.0)
                    stroke="#123" stroke-width="2" stroke-dasharray="4 2" {}
                text.axis x=(x(q)) y=(bar_top - 9.0) text-anchor="middle" { "quorum " (quorum) }
                text.axis x="0" y=(height - 6.0) { "for " (votes_for) }
                text.axis x=(width) y=(height - 6.0) text-anchor="end" { "against " (votes_against) " · of " (n_shards) " shards" }
            }
            figcaption {
                span.key style="background:#2f9e44" {} "for  "
                span.key style="background:#e03131" {} "against  "
                "dashed line: the quorum (more than two thirds of the shards)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: f64) -> String {
        format!("{v}")
    }

    #[test]
    fn a_bar_and_a_point_per_value() {
        let labels: Vec<String> = (0..5).map(|e| e.to_string()).collect();
        let svg = bars_and_line(
            "t",
            &labels,
            Series {
                name: "bytes",
                values: &[1.0, 2.0, 0.0, 4.0, 3.0],
                fmt: n,
            },
            Series {
                name: "blobs",
                values: &[1.0, 1.0, 0.0, 2.0, 2.0],
                fmt: n,
            },
        )
        .into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 5);
        assert_eq!(svg.matches("class=\"point\"").count(), 5);
        // The tallest bar reaches the top of the plot.
        assert!(svg.contains(&format!("y=\"{}\"", r1(TOP))), "{svg}");
        // Closed tags, so the HTML parser keeps SVG elements siblings.
        assert!(!svg.contains("/>"));
        assert!(svg.contains("</rect>"));
    }

    #[test]
    fn empty_and_single_series_render() {
        let svg = bars_and_line(
            "t",
            &[],
            Series {
                name: "a",
                values: &[],
                fmt: n,
            },
            Series {
                name: "b",
                values: &[],
                fmt: n,
            },
        )
        .into_string();
        assert!(svg.contains("<svg"));
        let svg = line(
            "t",
            &[3],
            Series {
                name: "stake",
                values: &[5.0],
                fmt: n,
            },
        )
        .into_string();
        assert_eq!(svg.matches("class=\"point\"").count(), 1);
    }

    #[test]
    fn shard_map_colours_each_shard_by_holder() {
        let owners = [Some(0), Some(0), Some(1), None];
        let svg = shard_map("m", &owners, &["a".into(), "b".into()]).into_string();
        assert_eq!(svg.matches("class=\"shard\"").count(), 4);
        assert_eq!(
            svg.matches(&member_colour(0)).count(),
            3,
            "two shards and a key"
        );
        assert!(svg.contains("shard 3: unassigned"));
    }

    #[test]
    fn tally_marks_for_against_and_quorum() {
        let svg = tally(6, 3, 7, 10).into_string();
        assert_eq!(svg.matches("class=\"for\"").count(), 1);
        assert_eq!(svg.matches("class=\"against\"").count(), 1);
        assert_eq!(svg.matches("class=\"quorum\"").count(), 1);
        // 6 of 10 shards: 384 of 640; against from 448 (640 - 3/10); the
        // quorum mark at 7/10.
        assert!(svg.contains(r#"width="384.0""#), "{svg}");
        assert!(svg.contains(r#"x="448.0" y="22" width="192.0""#), "{svg}");
        assert!(svg.contains(r#"x1="448.0""#), "{svg}");
        assert!(svg.contains("quorum 7"));
        // Never outside the picture, whatever the numbers.
        let odd = tally(50, -4, 99, 0).into_string();
        assert!(odd.contains(r#"width="640.0""#), "{odd}");
        assert!(!odd.contains(r#"width="-"#), "{odd}");
    }
}
