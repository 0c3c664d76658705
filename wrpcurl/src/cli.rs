//! The command line: commands, their flags, and a working example in every `--help`.
//!
//! The examples run from the repository root against the reference providers, after
//! `cargo build -p keyvalue-provider -p wrpcurl` and with a `nats-server` on the default port;
//! `wrpcurl` is on PATH after `cargo install --path wrpcurl` (or run `target/debug/wrpcurl`).
//! A test parses every `wrpcurl …` line of every `--help`, so an example that does not parse fails it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str =
    "Describe, call, serve and host wRPC capability providers from the command line";

const TOP_LEVEL_HELP: &str = "\
Examples (from the repository root, with a nats-server on the default port; \
`cargo install --path wrpcurl` puts wrpcurl on PATH, or run target/debug/wrpcurl after \
`cargo build -p wrpcurl`):
  wrpcurl describe --wit wit --world keyvalue
  cargo build -p keyvalue-provider
  echo '{\"source_id\": \"my-component\", \"wit_namespace\": \"wrpc\", \"wit_package\": \"keyvalue\", \
\"interfaces\": [\"store\", \"atomics\", \"batch\"]}' > link.json
  wrpcurl host run target/debug/keyvalue-provider --provider-id kv --link link.json &
  wrpcurl call default.kv --source-id my-component 'store.get(\"b\", \"k\")'
  ok(none)
  wrpcurl serve default.my-component wasmcloud:messaging/handler@0.2.0
More, with what each prints: `wrpcurl call --help`, `wrpcurl serve --help`, `wrpcurl host --help`.

Exit status: 0 success; 1 the provider answered, but not as hoped (unhealthy), or its process \
failed; 2 bad input (flags, WIT, files); 3 NATS or the provider could not be reached or did not \
answer in time.";

const DESCRIBE_EXAMPLES: &str = "\
Examples (from the repository root):
  wrpcurl describe --wit wit --world keyvalue
  wrpcurl describe --wit provider-sdk/tests/roundtrip/wit";

/// `wrpcurl`.
#[derive(Debug, Parser)]
#[command(name = "wrpcurl", version, about = ABOUT, after_help = TOP_LEVEL_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only make matching on it clumsier"
)]
pub enum Command {
    /// Print a world's imports and exports: each function's WIT signature and doc comment.
    #[command(after_help = DESCRIBE_EXAMPLES)]
    Describe(DescribeArgs),
    /// Play a component or a provider: serve every function of an interface, show each
    /// invocation received (function, headers, arguments in WAVE) and answer it.
    #[command(after_help = crate::serve::EXAMPLES)]
    Serve(crate::serve::ServeArgs),
    /// Call a function of a provider: arguments and results in WAVE, typed by the WIT.
    #[command(after_help = crate::call::EXAMPLES)]
    Call(crate::call::CallArgs),
    /// Play a wasmCloud 1.x host for a provider: start it, put and delete links, put
    /// configuration, ask for health and shutdown.
    #[command(after_help = crate::host::EXAMPLES)]
    Host(crate::host::HostArgs),
}

/// `wrpcurl describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// The WIT: a `.wit` file, or a package folder with its `deps/` (default: `./wit`).
    #[arg(long, value_name = "PATH")]
    pub wit: Option<PathBuf>,
    /// The world, by name (`keyvalue`) or id (`provider-sdk:providers/keyvalue`); needed when
    /// the package has several.
    #[arg(long, value_name = "NAME")]
    pub world: Option<String>,
}

/// Splits `NAME=VALUE` at the first `=` (the value may hold `=`; the name may not be empty);
/// `form` is how the error message writes it (`KEY=VALUE`, `NAME=VALUE (e.g. ...)`).
pub(crate) fn name_value(text: &str, form: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not {form}")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn names_and_values_split_at_the_first_equals_sign() {
        let split = |text| name_value(text, "KEY=VALUE");
        assert_eq!(split("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(split("a="), Ok(("a".into(), String::new())));
        assert_eq!(split("=b"), Err("`=b` is not KEY=VALUE".into()));
        assert!(split("ab").is_err());
    }

    #[test]
    fn every_command_shows_an_example_that_parses() {
        fn visit(command: &mut clap::Command, path: String, parsed: &mut usize) {
            let name = format!("{path} {}", command.get_name());
            let subcommands: Vec<_> = command.get_subcommands_mut().map(|c| c.clone()).collect();
            let help = command.render_long_help().to_string();
            assert!(
                help.contains("Example"),
                "`{name} --help` has no example:\n{help}"
            );
            for line in commands(&help) {
                let words = shell_words(&line)
                    .unwrap_or_else(|error| panic!("`{name} --help`: `{line}`: {error}"));
                if let Err(error) = Cli::try_parse_from(&words) {
                    panic!("`{name} --help`: `{line}` does not parse:\n{error}");
                }
                *parsed += 1;
            }
            for mut subcommand in subcommands {
                visit(&mut subcommand, name.clone(), parsed);
            }
        }
        let mut parsed = 0;
        visit(&mut Cli::command(), String::new(), &mut parsed);
        assert!(parsed >= 20, "only {parsed} examples");
    }

    /// The `wrpcurl …` command lines of a help text: lines continued with `\` joined, a
    /// trailing ` &` dropped.
    fn commands(help: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for line in help.lines() {
            current.push_str(line.trim());
            if let Some(continued) = current.strip_suffix('\\') {
                current = format!("{} ", continued.trim_end());
                continue;
            }
            let line = std::mem::take(&mut current);
            let line = line.strip_suffix(" &").unwrap_or(&line);
            if line.starts_with("wrpcurl ") {
                lines.push(line.to_owned());
            }
        }
        lines
    }

    /// `line` split into words as a shell does for the simple commands of the examples:
    /// whitespace between words, '…' and "…" quotes (`\"` inside the latter). Shell syntax
    /// the examples should not hold unquoted (`(`, `)`, `;`, `|`, `<`, `>`, `&`) is an error.
    fn shell_words(line: &str) -> Result<Vec<String>, String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => words.extend(word.take()),
                '\'' => {
                    let word = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(c) => word.push(c),
                            None => return Err("a ' is not closed".to_owned()),
                        }
                    }
                }
                '"' => {
                    let word = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => word.extend(chars.next()),
                            Some(c) => word.push(c),
                            None => return Err("a \" is not closed".to_owned()),
                        }
                    }
                }
                '(' | ')' | ';' | '|' | '<' | '>' | '&' => {
                    return Err(format!("`{c}` outside quotes is shell syntax"));
                }
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        Ok(words)
    }

    #[test]
    fn shell_words_are_split_as_a_shell_does() {
        assert_eq!(
            shell_words(r#"wrpcurl call p 'store.get("b", "k")' -H "a=b c""#).unwrap(),
            [
                "wrpcurl",
                "call",
                "p",
                r#"store.get("b", "k")"#,
                "-H",
                "a=b c"
            ]
        );
        assert!(shell_words("wrpcurl call p 'x' (with a link)").is_err());
        assert!(shell_words("wrpcurl call p 'x").is_err());
        assert_eq!(
            commands("x\n  wrpcurl a \\\n    b &\n  ok\nExample: wrpcurl c"),
            ["wrpcurl a b"]
        );
    }

    #[test]
    fn host_commands_take_the_lattice_and_nats_flags() {
        let cli = Cli::try_parse_from([
            "wrpcurl",
            "host",
            "health",
            "--nats",
            "nats://127.0.0.1:4333",
            "--lattice",
            "l1",
            "--provider-id",
            "kv",
        ])
        .unwrap();
        let Command::Host(crate::host::HostArgs {
            command: crate::host::HostCommand::Health(target),
        }) = cli.command
        else {
            panic!("not host health: {cli:?}");
        };
        assert_eq!(target.provider_id, "kv");
        assert_eq!(target.lattice.lattice, "l1");
        assert_eq!(target.lattice.nats.url, "nats://127.0.0.1:4333");
        assert_eq!(target.lattice.host_id, crate::host::HOST_ID);
    }
}
