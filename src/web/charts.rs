//! Dashboard charts drawn with plotters into SVG strings (inline in pages): bars (message
//! volume, broker scorecard), lines (cycle-time trend), an entry's event timeline.
//!
//! plotters escapes every text it writes into the SVG; a chart that fails to draw becomes a
//! short note instead of an error page.

use chrono::{DateTime, FixedOffset};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

const BRAND: RGBColor = RGBColor(31, 78, 140);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 78, 140),
    RGBColor(220, 104, 3),
    RGBColor(6, 118, 71),
    RGBColor(180, 35, 24),
    RGBColor(105, 65, 198),
    RGBColor(102, 112, 133),
];
const W: u32 = 600;
const H: u32 = 280;

type Res = Result<(), Box<dyn Error>>;

fn finish(svg: String, r: Res) -> String {
    match r {
        Ok(()) => svg,
        Err(e) => format!("<p class=\"empty\">chart unavailable: {}</p>", super::html::esc(&e.to_string())),
    }
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        1.0
    } else {
        v * 1.15
    }
}

/// Vertical bars, one per label. Values are already in display units, shown with `decimals`
/// decimals (0: counts, integer ticks only); values are written on the bars when there are few.
pub fn bars(
    title: &str,
    y_desc: &str,
    labels: &[String],
    values: &[f64],
    max_labels: usize,
    decimals: usize,
) -> String {
    let mut svg = String::new();
    let r = (|| -> Res {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = labels.len().max(1);
        let ymax = nice_max(values.iter().copied().fold(0.0, f64::max));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)?;
        let step = n.div_ceil(max_labels.max(1)).max(1);
        let fmt = |x: &f64| {
            let i = x.floor() as usize;
            if *x >= 0.0 && i % step == 0 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(234, 236, 240))
            .x_labels(n.min(60) * 2 + 1)
            .x_label_formatter(&|x| if (x.fract() - 0.5).abs() < 1e-6 { fmt(x) } else { String::new() })
            .y_labels(6)
            .y_label_formatter(&|v| {
                if decimals == 0 && (v - v.round()).abs() > 1e-9 {
                    String::new()
                } else {
                    format!("{v:.0$}", decimals.min(1))
                }
            })
            .label_style(("sans-serif", 13))
            .y_desc(y_desc)
            .axis_desc_style(("sans-serif", 13))
            .draw()?;
        let w = if n <= 4 { 0.3 } else { 0.15 };
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let x = i as f64;
            Rectangle::new([(x + w, 0.0), (x + 1.0 - w, v.max(0.0))], BRAND.mix(0.85).filled())
        }))?;
        if n <= 20 {
            let style =
                ("sans-serif", 14).into_font().color(&RGBColor(29, 35, 48)).pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Text::new(format!("{v:.decimals$}"), (i as f64 + 0.5, v.max(0.0)), style.clone())),
            )?;
        }
        root.present()?;
        Ok(())
    })();
    finish(svg, r)
}

/// One line series: name, colour index, points (x index, value); gaps are skipped.
pub struct Series {
    pub name: String,
    pub points: Vec<(usize, Option<f64>)>,
}

/// Lines over labelled x positions, with a legend.
pub fn lines(title: &str, y_desc: &str, labels: &[String], series: &[Series]) -> String {
    let mut svg = String::new();
    let r = (|| -> Res {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = labels.len().max(2);
        // Head room for the legend.
        let ymax = nice_max(series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.1)).fold(0.0, f64::max)) * 1.35;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..ymax)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(234, 236, 240))
            .label_style(("sans-serif", 13))
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .axis_desc_style(("sans-serif", 13))
            .draw()?;
        for (k, s) in series.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|(x, v)| v.map(|v| (*x as f64, v))).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(208, 213, 221))
            .draw()?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r)
}

/// An entry's events on a time axis, one row per kind of event.
pub fn timeline(events: &[(DateTime<FixedOffset>, String)]) -> String {
    let mut svg = String::new();
    let r = (|| -> Res {
        let mut kinds: Vec<&str> = Vec::new();
        for (_, k) in events {
            if !kinds.contains(&k.as_str()) {
                kinds.push(k);
            }
        }
        let h = (80 + 28 * kinds.len().max(1)) as u32;
        let root = SVGBackend::with_string(&mut svg, (1100, h.min(600))).into_drawing_area();
        root.fill(&WHITE)?;
        let first = events.iter().map(|e| e.0).min();
        let days = |t: DateTime<FixedOffset>| first.map_or(0.0, |f| (t - f).num_minutes() as f64 / 1440.0);
        let span = events.iter().map(|e| days(e.0)).fold(0.0, f64::max).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(28)
            .y_label_area_size(170)
            .build_cartesian_2d(-span * 0.03..span * 1.03, -0.6f64..(kinds.len().max(1) as f64 - 0.4))?;
        let short = span < 4.0;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(234, 236, 240))
            .label_style(("sans-serif", 13))
            .y_labels(kinds.len().max(1))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    kinds.get(i as usize).map(|s| s.to_string()).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_labels(7)
            .x_label_formatter(&|x| match first {
                Some(f) => match f.checked_add_signed(chrono::Duration::minutes((x * 1440.0) as i64)) {
                    Some(t) => t.format(if short { "%m-%d %H:%M" } else { "%Y-%m-%d" }).to_string(),
                    None => String::new(),
                },
                None => String::new(),
            })
            .draw()?;
        let mut sorted: Vec<&(DateTime<FixedOffset>, String)> = events.iter().collect();
        sorted.sort_by_key(|e| e.0);
        let pts: Vec<(f64, f64, usize)> = sorted
            .into_iter()
            .map(|(t, k)| {
                let i = kinds.iter().position(|x| x == k).unwrap_or(0);
                (days(*t), i as f64, i)
            })
            .collect();
        chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), RGBColor(208, 213, 221)))?;
        chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 6, PALETTE[p.2 % PALETTE.len()].filled())))?;
        root.present()?;
        Ok(())
    })();
    finish(svg, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_and_escape_labels() {
        let s = bars("t", "n", &["<b>".into(), "x".into()], &[1.0, 2.0], 10, 0);
        assert!(s.starts_with("<svg"), "{s}");
        assert!(!s.contains("<b>"));
        let l = lines(
            "t",
            "h",
            &["a".into(), "b".into()],
            &[Series { name: "m".into(), points: vec![(0, Some(1.0)), (1, None)] }],
        );
        assert!(l.starts_with("<svg"));
        let t = DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").unwrap();
        let tl = timeline(&[(t, "<script>".into()), (t + chrono::Duration::days(2), "released".into())]);
        assert!(tl.starts_with("<svg") && !tl.contains("<script>"), "{tl}");
        assert!(timeline(&[]).starts_with("<svg"));
        assert!(bars("t", "n", &[], &[], 10, 1).starts_with("<svg"));
    }
}
