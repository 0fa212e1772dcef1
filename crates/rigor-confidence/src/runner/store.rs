//! The results file: JSON lines, appended and flushed one record at a time.
//!
//! Line 1 is a [`Record::Header`]; then one [`Record::Stage1`] per stage-1 call, one
//! [`Record::Plan`], and one [`Record::Trial`] per stage-2 call — completed or failed. A
//! retried trial appends a new record with the same id; readers keep the **last** record of
//! each id, so failures are never lost from the file and never double-count. A final line cut
//! short by a crash (no newline, not valid JSON) is reported as torn and dropped on resume; a
//! bad line anywhere else is a [`ConfidenceError::CorruptRecord`].

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::agent::OptionProbs;
use crate::design::trial::{
    CompletedTrial, PlanRecord, Record, RunHeader, Stage1Outcome, Stage1Record, TrialOutcome,
    TrialRecord,
};
use crate::error::{ConfidenceError, Result, io_error};

/// Everything read back from a results file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    /// The header (`None` for an empty file).
    pub header: Option<RunHeader>,
    /// Latest stage-1 record per question id.
    pub stage1: BTreeMap<String, Stage1Record>,
    /// The plan, once written.
    pub plan: Option<PlanRecord>,
    /// Latest trial record per trial id.
    pub trials: BTreeMap<String, TrialRecord>,
    /// Number of records read (all attempts).
    pub n_records: usize,
    /// Bytes of a torn final line that were ignored.
    pub torn_tail_bytes: usize,
    /// Byte length of the valid prefix of the file (where appending resumes).
    pub(crate) valid_len: u64,
    /// Whether the valid prefix ends without a newline (a complete last record).
    pub(crate) needs_newline: bool,
}

impl Results {
    /// Reads a results file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut out = Results::default();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut offset = 0u64;
        for (n, raw) in lines.iter().enumerate() {
            let is_last = n + 1 == lines.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                offset += raw.len() as u64;
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(record) => {
                    out.add(record);
                    offset += raw.len() as u64;
                    out.needs_newline = !raw.ends_with('\n');
                }
                Err(_) if is_last && !raw.ends_with('\n') => {
                    out.torn_tail_bytes = raw.len();
                }
                Err(e) => {
                    return Err(ConfidenceError::CorruptRecord {
                        path: path.display().to_string(),
                        line: n + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
        out.valid_len = offset;
        Ok(out)
    }

    fn add(&mut self, record: Record) {
        self.n_records += 1;
        match record {
            Record::Header(h) => self.header = Some(h),
            Record::Stage1(s) => {
                self.stage1.insert(s.question_id.clone(), s);
            }
            Record::Plan(p) => self.plan = Some(p),
            Record::Trial(t) => {
                self.trials.insert(t.id.clone(), t);
            }
        }
    }

    /// Completed stage-2 trials (latest record per id), in id order.
    pub fn completed_trials(&self) -> Vec<CompletedTrial> {
        self.trials
            .values()
            .filter_map(CompletedTrial::from_record)
            .collect()
    }

    /// Trials whose latest record is a failure.
    pub fn failed_trials(&self) -> Vec<&TrialRecord> {
        self.trials
            .values()
            .filter(|t| matches!(t.outcome, TrialOutcome::Failed { .. }))
            .collect()
    }

    /// Completed stage-1 responses: `(question id, correct option, probabilities)`.
    pub fn stage1_completed(&self) -> Vec<(&str, usize, &OptionProbs)> {
        self.stage1
            .values()
            .filter_map(|s| match &s.outcome {
                Stage1Outcome::Completed { probs, .. } => {
                    Some((s.question_id.as_str(), s.correct, probs))
                }
                Stage1Outcome::Failed { .. } => None,
            })
            .collect()
    }
}

/// Appends records to a results file, one flushed line each.
#[derive(Debug)]
pub struct RecordWriter {
    file: File,
    path: PathBuf,
}

impl RecordWriter {
    /// Opens `path` for appending after its valid prefix (`existing` from [`Results::load`],
    /// or `None` for a new file): a torn tail is cut off, a missing final newline added.
    pub fn open(path: &Path, existing: Option<&Results>) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(path, &e))?;
        let mut w = Self {
            file,
            path: path.to_path_buf(),
        };
        if let Some(r) = existing {
            if r.torn_tail_bytes > 0 {
                w.file
                    .set_len(r.valid_len)
                    .map_err(|e| io_error(path, &e))?;
            }
            if r.needs_newline {
                w.file.write_all(b"\n").map_err(|e| io_error(path, &e))?;
            }
        }
        Ok(w)
    }

    /// Writes one record as a line and flushes it.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_string(record).map_err(|e| ConfidenceError::Io {
            path: self.path.display().to_string(),
            message: format!("serialising a record: {e}"),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| io_error(&self.path, &e))
    }
}
