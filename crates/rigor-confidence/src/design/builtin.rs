//! Built-in question sets: the paper's latitude task on real cities, and a synthetic set of
//! any size for simulations.
//!
//! The paper (S5) asks for "the correct latitude of a city vs a foil". [`latitude_questions`]
//! does the same for 45 well-known cities whose latitudes (city centre, rounded to 0.1°) are
//! listed in [`CITIES`]; each foil is the true latitude shifted by a seeded offset of 4°–20°
//! (either direction, reflected to stay within ±85°), foils at least 2° apart, options in a
//! seeded order.

use rand::RngExt;
use rand::seq::SliceRandom;

use super::question::{Question, QuestionSet};
use crate::error::{ConfidenceError, Result};
use crate::seed;

/// `(city, country, latitude in degrees, north positive)`.
pub const CITIES: [(&str, &str, f64); 45] = [
    ("London", "United Kingdom", 51.5),
    ("Paris", "France", 48.9),
    ("Berlin", "Germany", 52.5),
    ("Madrid", "Spain", 40.4),
    ("Rome", "Italy", 41.9),
    ("Oslo", "Norway", 59.9),
    ("Stockholm", "Sweden", 59.3),
    ("Helsinki", "Finland", 60.2),
    ("Reykjavik", "Iceland", 64.1),
    ("Dublin", "Ireland", 53.3),
    ("Lisbon", "Portugal", 38.7),
    ("Athens", "Greece", 38.0),
    ("Vienna", "Austria", 48.2),
    ("Warsaw", "Poland", 52.2),
    ("Moscow", "Russia", 55.8),
    ("Cairo", "Egypt", 30.0),
    ("Nairobi", "Kenya", -1.3),
    ("Cape Town", "South Africa", -33.9),
    ("Tokyo", "Japan", 35.7),
    ("Beijing", "China", 39.9),
    ("Seoul", "South Korea", 37.6),
    ("Singapore", "Singapore", 1.3),
    ("Sydney", "Australia", -33.9),
    ("Melbourne", "Australia", -37.8),
    ("Auckland", "New Zealand", -36.8),
    ("New York", "United States", 40.7),
    ("Los Angeles", "United States", 34.1),
    ("Chicago", "United States", 41.9),
    ("Toronto", "Canada", 43.7),
    ("Mexico City", "Mexico", 19.4),
    ("Buenos Aires", "Argentina", -34.6),
    ("Rio de Janeiro", "Brazil", -22.9),
    ("Lima", "Peru", -12.0),
    ("Bogota", "Colombia", 4.7),
    ("Mumbai", "India", 19.1),
    ("New Delhi", "India", 28.6),
    ("Bangkok", "Thailand", 13.8),
    ("Jakarta", "Indonesia", -6.2),
    ("Istanbul", "Turkey", 41.0),
    ("Anchorage", "United States", 61.2),
    ("Honolulu", "United States", 21.3),
    ("Santiago", "Chile", -33.4),
    ("Edinburgh", "United Kingdom", 56.0),
    ("Amsterdam", "Netherlands", 52.4),
    ("Copenhagen", "Denmark", 55.7),
];

/// Formats a latitude as `"51.5° N"` / `"33.9° S"` / `"0.0°"`.
pub fn format_latitude(lat: f64) -> String {
    let r = (lat * 10.0).round() / 10.0;
    if r > 0.0 {
        format!("{r:.1}° N")
    } else if r < 0.0 {
        format!("{:.1}° S", -r)
    } else {
        "0.0°".into()
    }
}

/// Foils for `truth`: `k` distinct latitudes 4°–20° away, ≥ 2° from each other and from
/// the truth, inside ±85°.
fn foils(truth: f64, k: usize, rng: &mut impl RngExt) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(k);
    while out.len() < k {
        let offset = rng.random_range(4.0..20.0) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let mut f = truth + offset;
        if f.abs() > 85.0 {
            f = truth - offset;
        }
        let f = (f * 10.0).round() / 10.0;
        if (f - truth).abs() >= 2.0 && out.iter().all(|g| (g - f).abs() >= 2.0) {
            out.push(f);
        }
    }
    out
}

/// Builds a question from a true value and foils, shuffling the options with `rng`.
fn shuffled_question(
    id: String,
    text: String,
    truth: f64,
    foils: Vec<f64>,
    rng: &mut impl RngExt,
) -> Result<Question> {
    let mut values: Vec<(f64, bool)> = std::iter::once((truth, true))
        .chain(foils.into_iter().map(|f| (f, false)))
        .collect();
    values.shuffle(rng);
    let correct = values.iter().position(|v| v.1).unwrap_or(0);
    let options = values.iter().map(|v| format_latitude(v.0)).collect();
    Question::new(id, text, options, correct)
}

fn check_options(n_options: usize) -> Result<()> {
    if (2..=6).contains(&n_options) {
        Ok(())
    } else {
        Err(ConfidenceError::InvalidParameter {
            name: "n_options",
            value: n_options as f64,
            reason: "built-in question sets have 2 to 6 options",
        })
    }
}

/// The paper's task on the 45 real cities of [`CITIES`]: "What is the latitude of
/// {city} ({country})?" with the true latitude and `n_options − 1` seeded foils.
pub fn latitude_questions(n_options: usize, seed: u64) -> Result<QuestionSet> {
    check_options(n_options)?;
    let questions = CITIES
        .iter()
        .map(|&(city, country, lat)| {
            let mut rng = seed::rng(seed, &["latitude", city]);
            let f = foils(lat, n_options - 1, &mut rng);
            shuffled_question(
                format!("lat-{}", city.to_lowercase().replace(' ', "-")),
                format!("What is the latitude of {city} ({country})?"),
                lat,
                f,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    QuestionSet::new(questions)
}

/// `n` made-up questions of the same form about fictional towns ("Town 17") with seeded
/// latitudes, for simulations that need more questions than there are real cities. Only
/// simulated agents can answer them (their knowledge is drawn, not looked up).
pub fn synthetic_questions(n: usize, n_options: usize, seed: u64) -> Result<QuestionSet> {
    check_options(n_options)?;
    let questions = (0..n)
        .map(|i| {
            let name = format!("Town {i}");
            let mut rng = seed::rng(seed, &["synthetic", &name]);
            let lat = (rng.random_range(-70.0..70.0_f64) * 10.0).round() / 10.0;
            let f = foils(lat, n_options - 1, &mut rng);
            shuffled_question(
                format!("syn-{i}"),
                format!("What is the latitude of the fictional {name}?"),
                lat,
                f,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    QuestionSet::new(questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latitude_questions_hold_the_true_latitude_as_the_correct_option() {
        let set = latitude_questions(2, 3).unwrap();
        assert_eq!(set.len(), CITIES.len());
        for (q, &(_, _, lat)) in set.questions().iter().zip(CITIES.iter()) {
            assert_eq!(q.options[q.correct], format_latitude(lat));
            assert_eq!(q.n_options(), 2);
        }
        // Seeded: the same seed gives the same set, another seed another order somewhere.
        assert_eq!(set, latitude_questions(2, 3).unwrap());
        assert_ne!(set, latitude_questions(2, 4).unwrap());
    }

    #[test]
    fn correct_option_position_is_balanced() {
        let set = synthetic_questions(400, 2, 1).unwrap();
        let first = set.questions().iter().filter(|q| q.correct == 0).count();
        // Binomial(400, 0.5): sd 10, so 150..250 is a 5-sd band.
        assert!((150..250).contains(&first), "{first}");
        assert!(synthetic_questions(10, 7, 1).is_err());
        assert_eq!(format_latitude(-33.94), "33.9° S");
    }
}
