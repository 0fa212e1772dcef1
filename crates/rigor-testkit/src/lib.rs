//! # rigor-testkit
//!
//! Test support shared by every rigor crate (a dev-dependency only, never published): the list
//! of Burn devices compiled into this build, so that one test body runs on all of them —
//! Flex, NdArray and wgpu alike.
//!
//! ```
//! rigor_testkit::for_each_device(|device| {
//!     let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], device);
//!     assert_eq!(x.dims(), [2]);
//! });
//! ```
//!
//! ## wgpu without a GPU
//!
//! The wgpu device is probed once per process with a tiny computation. If no adapter exists
//! (no GPU and no software Vulkan driver such as Mesa's llvmpipe), wgpu is skipped with a
//! message on stderr — unless the environment variable [`REQUIRE_WGPU_ENV`] is set to `1`,
//! in which case the probe failure is a test failure. CI sets it, so nothing is skipped there.
//!
//! ## Choosing devices
//!
//! [`DEVICES_ENV`] (`RIGOR_TEST_DEVICES=flex,wgpu`) restricts the run to the named devices, e.g.
//! to time or debug one backend; unset, every compiled-in device runs.
//!
//! ## Features
//!
//! - `flex` (default), `ndarray`, `wgpu`: which backends' devices [`devices`] yields.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod campaign;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
#[cfg(feature = "wgpu")]
use std::sync::OnceLock;

use burn::tensor::Device;

/// Environment variable: set to `1` to make a missing wgpu adapter fail the tests.
pub const REQUIRE_WGPU_ENV: &str = "RIGOR_REQUIRE_WGPU";

/// Environment variable: a comma-separated subset of `flex,ndarray,wgpu` to test on (unset:
/// all compiled in). Naming a backend that is not compiled in is a panic, not a silent skip.
pub const DEVICES_ENV: &str = "RIGOR_TEST_DEVICES";

fn wanted(name: &str) -> bool {
    match std::env::var(DEVICES_ENV) {
        Ok(list) => {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            for n in &names {
                assert!(
                    compiled_in(n),
                    "rigor-testkit: {DEVICES_ENV} names `{n}`, which is not a compiled-in backend"
                );
            }
            names.contains(&name)
        }
        Err(_) => true,
    }
}

fn compiled_in(name: &str) -> bool {
    [
        ("flex", cfg!(feature = "flex")),
        ("ndarray", cfg!(feature = "ndarray")),
        ("wgpu", cfg!(feature = "wgpu")),
    ]
    .contains(&(name, true))
}

/// A device to test on, with a name for failure messages.
#[derive(Debug, Clone)]
pub struct TestDevice {
    /// `"flex"`, `"ndarray"` or `"wgpu"`.
    pub name: &'static str,
    /// The device.
    pub device: Device,
}

/// Every device compiled into this build that works on this machine (see the crate docs for
/// how wgpu is probed).
#[allow(clippy::vec_init_then_push)] // pushes are behind per-backend cfgs
pub fn devices() -> Vec<TestDevice> {
    #[allow(unused_mut)]
    let mut out = Vec::new();
    #[cfg(feature = "flex")]
    if wanted("flex") {
        out.push(TestDevice {
            name: "flex",
            device: Device::flex(),
        });
    }
    #[cfg(feature = "ndarray")]
    if wanted("ndarray") {
        out.push(TestDevice {
            name: "ndarray",
            #[allow(deprecated)]
            device: Device::ndarray(),
        });
    }
    #[cfg(feature = "wgpu")]
    if wanted("wgpu")
        && let Some(device) = wgpu_device()
    {
        out.push(TestDevice {
            name: "wgpu",
            device: device.clone(),
        });
    }
    assert!(
        !out.is_empty(),
        "rigor-testkit: no device to test on (backend features: flex, ndarray, wgpu; {DEVICES_ENV} filters them)"
    );
    out
}

/// The CPU devices compiled into this build (Flex, NdArray) as `(name, device)` pairs, filtered
/// by [`DEVICES_ENV`] like [`devices`]: the list the criterion benches time side by side (GPU
/// speed is measured on a real GPU, not on a software Vulkan driver).
pub fn cpu_devices() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut out = Vec::new();
    #[cfg(feature = "flex")]
    if wanted("flex") {
        out.push(("flex", Device::flex()));
    }
    #[cfg(feature = "ndarray")]
    if wanted("ndarray") {
        #[allow(deprecated)]
        out.push(("ndarray", Device::ndarray()));
    }
    out
}

/// The same devices with autodiff enabled (`device.autodiff()`).
pub fn autodiff_devices() -> Vec<TestDevice> {
    devices()
        .into_iter()
        .map(|d| TestDevice {
            name: d.name,
            device: d.device.autodiff(),
        })
        .collect()
}

/// Runs `body` once per device in [`devices`]; a failure names the device it happened on.
pub fn for_each_device(body: impl Fn(&Device)) {
    run_each(devices(), body)
}

/// Runs `body` once per device in [`autodiff_devices`].
pub fn for_each_autodiff_device(body: impl Fn(&Device)) {
    run_each(autodiff_devices(), body)
}

fn run_each(devices: Vec<TestDevice>, body: impl Fn(&Device)) {
    for d in devices {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(&d.device))) {
            eprintln!("rigor-testkit: failure on device `{}`", d.name);
            resume_unwind(panic);
        }
    }
}

/// The wgpu device if a working adapter exists (probed once).
#[cfg(feature = "wgpu")]
pub fn wgpu_device() -> Option<&'static Device> {
    static PROBE: OnceLock<Option<Device>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
            let probe = catch_unwind(AssertUnwindSafe(|| {
                let x = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &device);
                x.sum().try_into_scalar::<f32>()
            }));
            match probe {
                Ok(Ok(3.0)) => Some(device),
                other => {
                    let why = match other {
                        Ok(Ok(v)) => format!("probe computed {v} instead of 3"),
                        Ok(Err(e)) => format!("probe failed: {e:?}"),
                        Err(_) => "probe panicked (no adapter?)".to_string(),
                    };
                    if std::env::var(REQUIRE_WGPU_ENV).as_deref() == Ok("1") {
                        panic!(
                            "rigor-testkit: wgpu is required ({REQUIRE_WGPU_ENV}=1) but unusable: {why}"
                        );
                    }
                    eprintln!(
                        "rigor-testkit: skipping wgpu tests: {why}. Install a Vulkan driver \
                         (e.g. Debian's mesa-vulkan-drivers) to run them."
                    );
                    None
                }
            }
        })
        .as_ref()
}
