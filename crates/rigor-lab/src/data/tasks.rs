//! Continual-learning task sequences (S4's forgetting case study), seeded.
//!
//! - **Permuted pixels** (Goodfellow et al. 2013; Kirkpatrick et al. 2017): task `k` applies a
//!   fixed random permutation `π_k` to every image's pixels; task 0 is the identity.
//! - **Class-incremental pairs** ((0,1) → (2,3) → …): task `k` holds the samples of classes
//!   `2k` and `2k+1`, labels unchanged (a shared 10-way head).

use rand::seq::SliceRandom;

use crate::data::Dataset;
use crate::error::{LabError, Result};

/// `tasks` pixel permutations of `features` pixels (lab's ChaCha8 stream
/// `tasks/pixel-permutations` under `seed`); the first is the identity.
pub fn pixel_permutations(features: usize, tasks: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = crate::rng::rng(seed, "tasks/pixel-permutations");
    (0..tasks)
        .map(|k| {
            let mut p: Vec<usize> = (0..features).collect();
            if k > 0 {
                p.shuffle(&mut rng);
            }
            p
        })
        .collect()
}

/// `data` with pixel `j` of every image replaced by pixel `perm[j]`.
pub fn permute_pixels(data: &Dataset, perm: &[usize]) -> Dataset {
    let f = data.features;
    assert_eq!(
        perm.len(),
        f,
        "permutation length must equal the pixel count"
    );
    let mut images = Vec::with_capacity(data.images.len());
    for img in data.images.chunks(f) {
        images.extend(perm.iter().map(|&j| img[j]));
    }
    Dataset {
        images,
        labels: data.labels.clone(),
        features: f,
    }
}

/// The permuted-pixel sequence: `tasks ≥ 1` copies of `data`, task 0 unpermuted.
pub fn permuted_tasks(data: &Dataset, tasks: usize, seed: u64) -> Result<Vec<Dataset>> {
    if tasks == 0 {
        return Err(LabError::config(
            "permuted_tasks tasks",
            tasks,
            "must be >= 1",
        ));
    }
    Ok(pixel_permutations(data.features, tasks, seed)
        .iter()
        .map(|p| permute_pixels(data, p))
        .collect())
}

/// Class-incremental tasks of `classes_per_task ≥ 1` consecutive classes:
/// `[0..c), [c..2c), …` up to the largest label. Empty tasks are kept (so task `k` always
/// holds classes `kc..(k+1)c`).
pub fn class_incremental_tasks(data: &Dataset, classes_per_task: usize) -> Result<Vec<Dataset>> {
    if classes_per_task == 0 {
        return Err(LabError::config(
            "class_incremental_tasks classes_per_task",
            classes_per_task,
            "must be >= 1",
        ));
    }
    let max = data.labels.iter().copied().max().unwrap_or(0);
    let n_tasks = max / classes_per_task + 1;
    Ok((0..n_tasks)
        .map(|k| {
            let idx: Vec<usize> = (0..data.len())
                .filter(|&i| data.labels[i] / classes_per_task == k)
                .collect();
            data.subset(&idx)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Dataset {
        Dataset::new((0..12).map(|x| x as f32).collect(), vec![0, 1, 2, 3], 3).unwrap()
    }

    #[test]
    fn permutations_are_seeded_and_task_zero_is_identity() {
        let a = pixel_permutations(10, 3, 7);
        assert_eq!(a, pixel_permutations(10, 3, 7));
        assert_ne!(a, pixel_permutations(10, 3, 8));
        assert_eq!(a[0], (0..10).collect::<Vec<_>>());
        let mut sorted = a[2].clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn permuting_moves_pixels_not_labels() {
        let d = permute_pixels(&toy(), &[2, 0, 1]);
        assert_eq!(&d.images[..3], &[2.0, 0.0, 1.0]);
        assert_eq!(d.labels, toy().labels);
    }

    #[test]
    fn class_incremental_pairs() {
        let t = class_incremental_tasks(&toy(), 2).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].labels, vec![0, 1]);
        assert_eq!(t[1].labels, vec![2, 3]);
        assert_eq!(&t[1].images[..3], &[6.0, 7.0, 8.0]);
    }
}
