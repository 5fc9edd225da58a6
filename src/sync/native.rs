//! The native transport: a blocking HTTP client (ureq), and the tiny executor that drives the
//! sync futures over it (they never wait on anything else, so polling once completes them).

use super::server::{HttpRequest, Remote};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            // MLflow's error answers are read, not raised.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build();
        Http {
            agent: config.into(),
        }
    }
}

impl Remote for Http {
    async fn send(&mut self, r: HttpRequest) -> Result<(u16, Vec<u8>), String> {
        let mut builder = ureq::http::Request::builder().method(r.method).uri(&r.url);
        for (k, v) in &r.headers {
            builder = builder.header(k, v);
        }
        let answer = match r.body {
            Some(body) => builder
                .body(body)
                .map_err(|e| e.to_string())
                .map(|req| self.agent.run(req)),
            None => builder
                .body(())
                .map_err(|e| e.to_string())
                .map(|req| self.agent.run(req)),
        }?;
        let mut response = answer.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| format!("the answer was cut off: {e}"))?;
        Ok((status, body))
    }
}

struct NoWake;

impl Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

/// Runs a future whose awaits all complete at once (the blocking transport's).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(NoWake));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
