//! The committed digits file loads; MNIST IDX parsing; seeded task builders.

use rigor_lab::data::{digits, mnist, tasks};

#[test]
fn committed_digits_set_has_1797_images_of_64_pixels() {
    let d = digits::load().unwrap();
    assert_eq!(d.len(), digits::LEN);
    assert_eq!(d.features, digits::FEATURES);
    assert!(d.images.iter().all(|p| (0.0..=1.0).contains(p)));
    let mut counts = [0usize; 10];
    d.labels.iter().for_each(|&l| counts[l] += 1);
    // Every class has 174–183 images in this split.
    assert!(
        counts.iter().all(|&c| (170..=190).contains(&c)),
        "{counts:?}"
    );
    let (train, test) = d.split(0.2, 0).unwrap();
    assert_eq!(test.len(), 359);
    assert_eq!(train.len() + test.len(), d.len());
    assert_eq!(d.split(0.2, 0).unwrap().1, test);
    let pairs = tasks::class_incremental_tasks(&d, 2).unwrap();
    assert_eq!(pairs.len(), 5);
    assert!(pairs[4].labels.iter().all(|&l| l == 8 || l == 9));
    let perm = tasks::permuted_tasks(&d, 3, 1).unwrap();
    assert_eq!(perm[0], d);
    assert_ne!(perm[1].images, d.images);
}

#[test]
fn idx_files_parse_and_bad_ones_are_errors() {
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1];
    images.extend([0u8, 255, 51, 0]);
    let labels = vec![0, 0, 8, 1, 0, 0, 0, 2, 7, 3];
    let d = mnist::parse(&images, &labels).unwrap();
    assert_eq!((d.len(), d.features), (2, 2));
    assert_eq!(d.images, vec![0.0, 1.0, 0.2, 0.0]);
    assert_eq!(d.labels, vec![7, 3]);
    assert!(mnist::parse(&images[..18], &labels).is_err());
    assert!(mnist::parse(&labels, &labels).is_err());
    assert!(mnist::load("/nonexistent/a", "/nonexistent/b").is_err());
}
