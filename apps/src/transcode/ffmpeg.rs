//! Talking to ffmpeg: its command line, whether it is installed, its `-progress` output
//! and the input duration it reports on stderr.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The default output options, as in the seed: scale to 640x360, MPEG-4 video, audio copied.
pub const DEFAULT_ARGS: &str = "-vf scale=640:360 -c:v mpeg4 -q:v 5 -c:a copy";

/// The hint shown when ffmpeg cannot be run.
pub const INSTALL_HINT: &str = "install it, e.g. `apt-get install ffmpeg` (Debian, Ubuntu)";

/// Splits an argument string as a shell would, without expansions: whitespace separates,
/// `'...'` and `"..."` quote (a backslash escapes the next character outside single quotes).
///
/// # Errors
/// An unclosed quote, or a trailing backslash.
pub fn split_args(s: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed ' in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err(format!("trailing \\ in {s:?}")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unclosed \" in {s:?}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => {
                    in_word = true;
                    cur.push(c);
                }
                None => return Err(format!("trailing \\ in {s:?}")),
            },
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        args.push(cur);
    }
    Ok(args)
}

/// Checks that `program` runs (`program -version`); returns its first line of output.
///
/// # Errors
/// Why it cannot be run, as text.
pub(super) fn check(program: &Path) -> Result<String, String> {
    let out = Command::new(program)
        .arg("-version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("`{} -version` failed ({})", program.display(), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string())
}

/// The full argument list for one transcode: quiet banner, no stdin, progress on stdout,
/// overwrite the (half-written) output.
pub(super) fn command_args(input: &Path, output: &Path, options: &[String]) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-nostats", "-y", "-i"].map(OsString::from).into();
    args.push(input.into());
    args.extend(options.iter().map(OsString::from));
    args.extend(["-progress", "pipe:1"].map(OsString::from));
    args.push(output.into());
    args
}

/// The command line as shown to a person.
pub(super) fn describe(program: &Path, args: &[OsString]) -> String {
    let mut s = program.display().to_string();
    for a in args {
        let a = a.to_string_lossy();
        s.push(' ');
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c)) {
            s.push('\'');
            s.push_str(&a.replace('\'', "'\\''"));
            s.push('\'');
        } else {
            s.push_str(&a);
        }
    }
    s
}

/// One block of ffmpeg's `-progress` output, reduced to what the bars need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ProgressReport {
    /// How much of the output has been written, in media time.
    pub(super) out_time: Duration,
    /// True for the last block (`progress=end`).
    pub(super) end: bool,
}

/// Reads ffmpeg's `-progress` output (`key=value` lines; each block ends with
/// `progress=continue` or `progress=end`), fed in chunks as they come.
#[derive(Debug, Default)]
pub(super) struct ProgressParser {
    line: Vec<u8>,
    out_time: Option<Duration>,
}

impl ProgressParser {
    /// A parser with nothing read yet.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; returns the blocks it completed.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Vec<ProgressReport> {
        let mut reports = Vec::new();
        for &b in chunk {
            if b != b'\n' {
                // A progress line is short; anything longer is not one of them.
                if self.line.len() < 4096 {
                    self.line.push(b);
                }
                continue;
            }
            let line = String::from_utf8_lossy(&self.line).trim().to_string();
            self.line.clear();
            let Some((key, value)) = line.split_once('=') else { continue };
            match key {
                // Microseconds, despite the name of the second; "N/A" before the first frame.
                "out_time_us" | "out_time_ms" => {
                    if let Ok(us) = value.trim().parse::<u64>() {
                        self.out_time = Some(Duration::from_micros(us));
                    }
                }
                "progress" => reports
                    .push(ProgressReport { out_time: self.out_time.unwrap_or_default(), end: value.trim() == "end" }),
                _ => {}
            }
        }
        reports
    }
}

/// The input duration ffmpeg prints on stderr (`  Duration: 00:01:02.50, start: ...`),
/// if `text` holds it.
pub(super) fn input_duration(text: &str) -> Option<Duration> {
    let rest = &text[text.find("Duration: ")? + "Duration: ".len()..];
    let stamp = rest.split([',', '\n']).next()?.trim();
    parse_timestamp(stamp)
}

/// `HH:MM:SS.frac` as a duration.
fn parse_timestamp(stamp: &str) -> Option<Duration> {
    let mut parts = stamp.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    let s: f64 = s.parse().ok()?;
    if !s.is_finite() || s < 0.0 {
        return None;
    }
    Some(Duration::from_secs(h * 3600 + m * 60) + Duration::from_secs_f64(s))
}

/// The last line of ffmpeg's stderr that says something: what a failure is reported with.
pub(super) fn last_words(stderr: &str) -> Option<&str> {
    stderr.lines().map(str::trim).rev().find(|l| !l.is_empty() && !l.starts_with("frame=") && !l.starts_with("video:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_like_a_shell() {
        assert_eq!(split_args(" -vf  'scale=640:360' -c:v mpeg4 ").unwrap(), ["-vf", "scale=640:360", "-c:v", "mpeg4"]);
        assert_eq!(
            split_args(r#"-metadata "title=A \"talk\"" x\ y"#).unwrap(),
            ["-metadata", "title=A \"talk\"", "x y"]
        );
        assert_eq!(split_args("''").unwrap(), [""]);
        assert!(split_args("'open").is_err());
    }

    #[test]
    fn progress_blocks_give_the_time_written() {
        let mut p = ProgressParser::new();
        assert_eq!(p.feed(b"frame=1\nout_time_us=N/A\nprogress=continue\nout_time_us=1500").len(), 1);
        let r = p.feed(b"000\nprogress=end\n");
        assert_eq!(r, [ProgressReport { out_time: Duration::from_millis(1500), end: true }]);
    }

    #[test]
    fn the_input_duration_is_read_from_stderr() {
        let text = "Input #0, mov,mp4, from 'a.mp4':\n  Duration: 00:01:02.50, start: 0.000000, bitrate: 102 kb/s\n";
        assert_eq!(input_duration(text), Some(Duration::from_millis(62_500)));
        assert_eq!(input_duration("  Duration: N/A, start"), None);
        assert_eq!(last_words("a\nbad.mp4: Invalid data found\n\n"), Some("bad.mp4: Invalid data found"));
    }
}
