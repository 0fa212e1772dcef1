//! Planning stage 2 so that advice is **truthful**: in every cell, the fraction of trials
//! whose advice is correct equals the stated accuracy.
//!
//! The cell fixes the advice *type* relative to the agent's stage-1 answer $i$; whether such
//! advice is correct then depends on the question, since Same advice is correct exactly when
//! $i$ was correct, and Opposite advice can be correct only when $i$ was wrong. So the plan
//! is made after stage 1 and assigns **questions to cells**: for a cell of $n$ trials at
//! accuracy $a$ it draws $n_\text{c} = \lfloor an \rfloor + B$ trials (with
//! $B \sim \text{Bernoulli}(an - \lfloor an \rfloor)$, so the realised accuracy is within
//! $1/n$ of $a$ and equal to it in expectation) from the questions on which that advice type
//! is correct, and $n - n_\text{c}$ from those on which it is wrong:
//!
//! | advice | correct advice drawn from | advice option | wrong advice drawn from | advice option |
//! |---|---|---|---|---|
//! | Same | $i$ correct | $i$ | $i$ wrong | $i$ |
//! | Opposite | $i$ wrong | the correct option | $i$ correct, or ($K \ge 3$) $i$ wrong | a uniformly drawn incorrect option $\ne i$ |
//! | Neutral | all questions | none | — | — |
//!
//! Draws cycle through a seeded shuffle of the pool, so questions repeat only when a pool is
//! smaller than the number of trials. If a pool a cell needs is empty (an agent that got
//! everything right cannot receive truthful 100% Opposite advice) the cell is left out and
//! listed as infeasible. Each (advice, accuracy) pair has its own generator (seed, pair), and
//! the final trial order is a seeded shuffle across cells.
//!
//! **Paired displays.** The Shown and Hidden cells of the same advice type and accuracy get
//! the *same* questions with the *same* advice, so the Shown-vs-Hidden contrast (the
//! choice-supportive effect) is not confounded by which questions were drawn.
//!
//! A consequence to keep in mind when reading raw curves: at high accuracy, Same cells hold
//! mostly questions the agent got right (and was confident about), Opposite cells mostly
//! questions it got wrong. The regression of [`crate::regression`] conditions on the prior
//! confidence, which is why the paper (and this crate) analyse updates relative to it.

use std::collections::BTreeMap;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

use crate::agent::OptionProbs;
use crate::design::condition::{AdviceType, Cell, Design};
use crate::design::question::{Question, QuestionSet};
use crate::design::trial::{InfeasibleCell, PlanRecord, PlannedTrial};
use crate::seed;

/// Draws `n` items from `pool` by cycling through seeded shuffles.
fn draw<'a>(pool: &[&'a Question], n: usize, rng: &mut ChaCha8Rng) -> Vec<&'a Question> {
    let mut out = Vec::with_capacity(n);
    let mut order: Vec<&Question> = pool.to_vec();
    while out.len() < n {
        order.shuffle(rng);
        out.extend(order.iter().take(n - out.len()).copied());
    }
    out
}

/// Plans stage 2 from the stage-1 answers of the questions that completed stage 1
/// (`answers` maps question id → stage-1 probabilities).
pub fn plan(
    design: &Design,
    questions: &QuestionSet,
    answers: &BTreeMap<String, OptionProbs>,
) -> PlanRecord {
    let cfg = design.config();
    let n = cfg.trials_per_cell;
    let answered: Vec<(&Question, usize)> = questions
        .questions()
        .iter()
        .filter_map(|q| answers.get(&q.id).map(|p| (q, p.answer())))
        .collect();
    let answer_of = |q: &Question| answers.get(&q.id).map(|p| p.answer()).unwrap_or(0);
    let right: Vec<&Question> = answered
        .iter()
        .filter(|(q, i)| *i == q.correct)
        .map(|x| x.0)
        .collect();
    let wrong: Vec<&Question> = answered
        .iter()
        .filter(|(q, i)| *i != q.correct)
        .map(|x| x.0)
        .collect();
    let all: Vec<&Question> = answered.iter().map(|x| x.0).collect();
    let opp_wrong: Vec<&Question> = answered
        .iter()
        .filter(|(q, i)| *i == q.correct || q.n_options() >= 3)
        .map(|x| x.0)
        .collect();

    let mut trials = Vec::new();
    let mut infeasible = Vec::new();
    for &advice in &cfg.advice_types {
        for &accuracy_percent in &cfg.accuracies_percent {
            // One draw per (advice, accuracy), shared by every display: a paired design.
            let key = format!("{advice}-{accuracy_percent}");
            let mut rng = seed::rng(cfg.seed, &["plan", &key]);
            let drawn = draw_cell(
                advice,
                accuracy_percent,
                n,
                Pools {
                    all: &all,
                    right: &right,
                    wrong: &wrong,
                    opp_wrong: &opp_wrong,
                },
                &answer_of,
                &mut rng,
            );
            for &display in &cfg.displays {
                let cell = Cell {
                    display,
                    advice,
                    accuracy_percent,
                };
                match &drawn {
                    Ok(list) => {
                        for (idx, (q, advice_option, advice_correct)) in list.iter().enumerate() {
                            trials.push(PlannedTrial {
                                id: format!("{}-{idx:04}", cell.key()),
                                question_id: q.id.clone(),
                                cell,
                                advice_option: *advice_option,
                                advice_correct: *advice_correct,
                            });
                        }
                    }
                    Err(reason) => infeasible.push(InfeasibleCell {
                        cell,
                        reason: reason.clone(),
                    }),
                }
            }
        }
    }
    trials.shuffle(&mut seed::rng(cfg.seed, &["plan-order"]));
    PlanRecord { trials, infeasible }
}

/// The question pools of the table in the module docs.
struct Pools<'p, 'a> {
    all: &'p [&'a Question],
    right: &'p [&'a Question],
    wrong: &'p [&'a Question],
    opp_wrong: &'p [&'a Question],
}

type Drawn<'a> = Vec<(&'a Question, Option<usize>, Option<bool>)>;

/// The trials of one (advice, accuracy) pair: question, advice option, advice correct.
fn draw_cell<'a>(
    advice: AdviceType,
    accuracy_percent: u32,
    n: usize,
    pools: Pools<'_, 'a>,
    answer_of: &dyn Fn(&Question) -> usize,
    rng: &mut ChaCha8Rng,
) -> Result<Drawn<'a>, String> {
    if advice == AdviceType::Neutral {
        if pools.all.is_empty() {
            return Err("no question completed stage 1".into());
        }
        return Ok(draw(pools.all, n, rng)
            .into_iter()
            .map(|q| (q, None, None))
            .collect());
    }
    let total = u64::from(accuracy_percent) * n as u64;
    let mut n_correct = (total / 100) as usize;
    let remainder = (total % 100) as f64 / 100.0;
    if remainder > 0.0 && rng.random_bool(remainder) {
        n_correct += 1;
    }
    let n_wrong = n - n_correct;
    let (correct_pool, wrong_pool, correct_label, wrong_label) = match advice {
        AdviceType::Same => (
            pools.right,
            pools.wrong,
            "answered correctly",
            "answered wrongly",
        ),
        _ => (
            pools.wrong,
            pools.opp_wrong,
            "answered wrongly",
            "with an incorrect option other than the answer",
        ),
    };
    let mut missing = Vec::new();
    if n_correct > 0 && correct_pool.is_empty() {
        missing.push(format!(
            "correct advice needs questions {correct_label} at stage 1, and there are none"
        ));
    }
    if n_wrong > 0 && wrong_pool.is_empty() {
        missing.push(format!(
            "wrong advice needs questions {wrong_label} at stage 1, and there are none"
        ));
    }
    if !missing.is_empty() {
        return Err(missing.join("; "));
    }
    let mut flags: Vec<bool> = std::iter::repeat_n(true, n_correct)
        .chain(std::iter::repeat_n(false, n_wrong))
        .collect();
    flags.shuffle(rng);
    let mut from_correct = draw(correct_pool, n_correct, rng).into_iter();
    let mut from_wrong = draw(wrong_pool, n_wrong, rng).into_iter();
    let mut out = Vec::with_capacity(n);
    for is_correct in flags {
        let q = if is_correct {
            from_correct.next()
        } else {
            from_wrong.next()
        };
        let Some(q) = q else { continue };
        let i = answer_of(q);
        let option = match (advice, is_correct) {
            (AdviceType::Same, _) => i,
            (_, true) => q.correct,
            (_, false) => {
                let candidates: Vec<usize> = (0..q.n_options())
                    .filter(|&j| j != i && j != q.correct)
                    .collect();
                candidates[rng.random_range(0..candidates.len())]
            }
        };
        out.push((q, Some(option), Some(is_correct)));
    }
    Ok(out)
}
