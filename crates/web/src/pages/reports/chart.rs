//! Bar charts drawn on the server: each bar an inline SVG of rectangles in
//! a 100 × 10 box that stretches to its row, beside its label and value in
//! HTML. No script and no inline style (the pages' Content-Security-Policy
//! allows neither): sizes are SVG attributes, colours classes of the
//! stylesheet. The figures are also in the table below each chart, so the
//! drawing is hidden from screen readers and the text beside it is not.

/// A chart: a title, a legend when bars have several parts, and its bars.
pub(crate) struct Chart {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) legend: Vec<Key>,
    pub(crate) bars: Vec<Bar>,
}

/// One entry of a legend.
pub(crate) struct Key {
    pub(crate) label: String,
    pub(crate) class: &'static str,
}

/// One bar: what it is, its figure in words, and its rectangles.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: String,
    pub(crate) rects: Vec<Rect>,
}

/// A rectangle of a bar, in the box's units (0 to 100 across).
pub(crate) struct Rect {
    pub(crate) x: String,
    pub(crate) width: String,
    pub(crate) class: &'static str,
}

/// The classes of a bar's parts, in order; the stylesheet colours them.
pub(crate) const SERIES: [&str; 3] = ["s1", "s2", "s3"];

fn units(x: f64) -> String {
    format!("{:.2}", x.clamp(0.0, 100.0))
}

fn rect(x: f64, width: f64, class: &'static str) -> Rect {
    Rect {
        x: units(x),
        width: units(width),
        class,
    }
}

/// A legend naming each part of the bars, in order.
pub(crate) fn legend(labels: &[String]) -> Vec<Key> {
    labels
        .iter()
        .zip(SERIES)
        .map(|(label, class)| Key {
            label: label.clone(),
            class,
        })
        .collect()
}

impl Chart {
    fn new(id: &str, title: String, legend: Vec<Key>) -> Self {
        Self {
            id: id.to_owned(),
            title,
            legend,
            bars: Vec::new(),
        }
    }

    /// Bars whose parts follow one another (held, to come, cancelled),
    /// all on one scale: the longest bar fills its row.
    pub(crate) fn stacked(
        id: &str,
        title: String,
        legend: Vec<Key>,
        items: Vec<(String, Vec<f64>, String)>,
    ) -> Self {
        let mut chart = Self::new(id, title, legend);
        let most = items
            .iter()
            .map(|(_, parts, _)| parts.iter().sum::<f64>())
            .fold(0.0, f64::max);
        for (label, parts, value) in items {
            let mut x = 0.0;
            let mut rects = Vec::new();
            for (part, class) in parts.iter().zip(SERIES) {
                let width = scaled(*part, most);
                if width > 0.0 {
                    rects.push(rect(x, width, class));
                }
                x += width;
            }
            chart.bars.push(Bar {
                label,
                value,
                rects,
            });
        }
        chart
    }

    /// Bars of a whole with a part of it drawn over (registered, and of
    /// them who came), on one scale.
    pub(crate) fn overlaid(
        id: &str,
        title: String,
        legend: Vec<Key>,
        items: Vec<(String, f64, f64, String)>,
    ) -> Self {
        let mut chart = Self::new(id, title, legend);
        let most = items
            .iter()
            .map(|(_, whole, _, _)| *whole)
            .fold(0.0, f64::max);
        for (label, whole, part, value) in items {
            let mut rects = Vec::new();
            if whole > 0.0 {
                rects.push(rect(0.0, scaled(whole, most), SERIES[0]));
            }
            if part > 0.0 {
                rects.push(rect(0.0, scaled(part.min(whole), most), SERIES[1]));
            }
            chart.bars.push(Bar {
                label,
                value,
                rects,
            });
        }
        chart
    }

    /// Bars each on its own scale, with a mark where its target stands:
    /// how far each figure has come towards its goal.
    pub(crate) fn towards(
        id: &str,
        title: String,
        legend: Vec<Key>,
        items: Vec<(String, f64, Option<f64>, String)>,
    ) -> Self {
        let mut chart = Self::new(id, title, legend);
        for (label, value, target, text) in items {
            // The target sits at four fifths, so a figure past it shows.
            let most = target.map_or(value, |t| value.max(t * 1.25));
            let mut rects = Vec::new();
            let width = scaled(value, most);
            if width > 0.0 {
                rects.push(rect(0.0, width, SERIES[0]));
            }
            if let Some(target) = target {
                let at = scaled(target, most);
                rects.push(rect((at - 0.6).max(0.0), 1.2, SERIES[2]));
            }
            chart.bars.push(Bar {
                label,
                value: text,
                rects,
            });
        }
        chart
    }

    /// Bars of percentages, on the scale of a whole hundred.
    pub(crate) fn percentages(id: &str, title: String, items: Vec<(String, f64, String)>) -> Self {
        let mut chart = Self::new(id, title, Vec::new());
        for (label, share, value) in items {
            let width = scaled(share, 100.0);
            chart.bars.push(Bar {
                label,
                value,
                rects: if width > 0.0 {
                    vec![rect(0.0, width, SERIES[0])]
                } else {
                    Vec::new()
                },
            });
        }
        chart
    }

    /// Whether there is anything to draw.
    pub(crate) fn is_empty(&self) -> bool {
        self.bars.iter().all(|b| b.rects.is_empty())
    }
}

/// `value` as a share of `most`, in the box's units.
fn scaled(value: f64, most: f64) -> f64 {
    if most <= 0.0 || !value.is_finite() || value <= 0.0 {
        0.0
    } else {
        (value / most * 100.0).min(100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_bars_share_one_scale() {
        let chart = Chart::stacked(
            "c",
            "t".into(),
            legend(&["a".into(), "b".into()]),
            vec![
                ("one".into(), vec![3.0, 1.0], "4".into()),
                ("two".into(), vec![1.0, 0.0], "1".into()),
            ],
        );
        assert_eq!(chart.legend.len(), 2);
        let one = &chart.bars[0].rects;
        assert_eq!(
            (one[0].x.as_str(), one[0].width.as_str()),
            ("0.00", "75.00")
        );
        assert_eq!(
            (one[1].x.as_str(), one[1].width.as_str()),
            ("75.00", "25.00")
        );
        assert_eq!(chart.bars[1].rects.len(), 1);
        assert_eq!(chart.bars[1].rects[0].width, "25.00");
    }

    #[test]
    fn a_target_is_marked_on_its_own_scale() {
        let chart = Chart::towards(
            "c",
            "t".into(),
            vec![],
            vec![("cov".into(), 6.0, Some(15.0), "6 %".into())],
        );
        let rects = &chart.bars[0].rects;
        assert_eq!(rects[0].width, "32.00");
        assert_eq!(rects[1].class, "s3");
        assert_eq!(rects[1].x, "79.40");
        let empty = Chart::stacked(
            "e",
            "t".into(),
            vec![],
            vec![("z".into(), vec![0.0], "0".into())],
        );
        assert!(empty.is_empty());
    }
}
