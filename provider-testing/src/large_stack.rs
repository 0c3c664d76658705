//! Running a test whose futures are too large for the default thread stack.

/// Runs `test` on a multi-threaded runtime whose threads, and the thread that makes and polls
/// the test's future, have 64 MiB stacks. `wit-bindgen-wrpc`'s generated futures for a large
/// world exceed the default 2 MiB in debug builds; the future is made on the big stack, never
/// moved through a small one.
pub fn run_on_large_stack<F, Fut, E>(test: F) -> Result<(), E>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: From<std::io::Error> + Send + 'static,
{
    const STACK: usize = 64 << 20;
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(STACK)
                .enable_all()
                .build()?
                .block_on(Box::pin(test()))
        })?
        .join()
        .expect("the test thread does not panic")
}
