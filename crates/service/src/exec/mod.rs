//! Running steps: the service behind the runs and predict routes, shared by every caller.
//!
//! A step's inputs are validated against the components they answer before any worker sees
//! them; files are resolved to bytes; the version's pool runs the step; output files and the
//! pickled state go to the blob store, and only the outputs go back to the client.

pub mod cache;
pub mod files;
mod outcome;
pub mod scoring;
pub mod tensors;
pub mod views;

use std::sync::Arc;
use std::time::Instant;

use feather_runner::engine::{Engine, StepCall};
use feather_runner::env::EnvStatus;
use feather_spec::{Component, Manifest, Problem};
use feather_store::{
    RunRecord, RunStatus, StepRecord, StoreError, Viewer, Visibility, new_id, now,
};
use serde_json::{Map, Value, json};

use crate::Actor;
use crate::Service;
use crate::{Code, Result, ServiceError};
use cache::Target;
use views::{NextStep, Prediction, RunView, StepView};

/// Splits `name@ref` (ref: a version number or an alias; `latest` when absent).
pub fn split_ref(name: &str) -> (&str, &str) {
    name.split_once('@').unwrap_or((name, "latest"))
}

/// Refuses (404, as if it did not exist) a model the viewer may not see.
pub async fn check_visible(s: &Service, owner: &str, name: &str, viewer: &Viewer) -> Result<()> {
    if viewer.admin || s.cache.is_public(owner, name) {
        return Ok(());
    }
    let read = s.cache.epoch();
    if s.store.registry.visible(owner, name, viewer).await? == Visibility::Public {
        s.cache.put_public(owner, name, read);
    }
    Ok(())
}

async fn target(s: &Service, owner: &str, name: &str, reference: &str) -> Result<Arc<Target>> {
    let number = match reference.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => s.cache.alias(owner, name, reference),
    };
    if let Some(t) = number.and_then(|n| s.cache.version(owner, name, n)) {
        return Ok(t);
    }
    let read = s.cache.epoch();
    let detail = s.store.registry.version(owner, name, reference).await?;
    let manifest = Manifest::parse(&detail.manifest).map_err(StoreError::InvalidManifest)?;
    if reference.parse::<i64>().is_err() {
        s.cache
            .put_alias(owner, name, reference, detail.version.version, read);
    }
    let t = Arc::new(Target {
        bundle: s.runner.bundle_dir(&detail.version.digest),
        detail,
        manifest,
        engine: Default::default(),
    });
    s.cache.put(t.clone(), read);
    Ok(t)
}

fn viewer(user: Option<&Actor>) -> Viewer {
    user.map(Actor::viewer).unwrap_or_default()
}

/// Starts preparing a version (unpacked bundle, environment, one warm worker) in the
/// background, as publishing does.
pub fn prepare_in_background(s: &Service, owner: String, name: String, version: i64) {
    let s = s.clone();
    tokio::spawn(async move {
        let result = async {
            let t = target(&s, &owner, &name, &version.to_string()).await?;
            let engine = build_engine(&s, &t).await?;
            engine
                .warm()
                .await
                .map_err(|e| outcome::run_error(e, "(warm-up)", &s, &t, None))
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(model = %format!("{owner}/{name}@{version}"), error = %e.message, "preparing the version failed");
        }
    });
}

/// Refuses a Python version at once when the server has no sandbox: no environment build runs
/// without it, so nothing would ever make the model runnable (or its environment other than
/// pending).
fn needs_no_sandbox(s: &Service, t: &Target) -> Result<()> {
    let python = matches!(t.manifest.runtime, feather_spec::Runtime::Python { .. });
    match &s.runner.sandbox {
        Err(reason) if python => Err(sandbox_unavailable(feather_runner::RunnerError::NoSandbox(
            reason.clone(),
        ))),
        _ => Ok(()),
    }
}

/// The version's pool once its environment is ready; a clear 409 until then, and the build
/// is started if nothing started it yet (after a restart, say). A request never waits for a
/// build.
async fn ready_engine(s: &Service, t: &Target) -> Result<Arc<dyn Engine>> {
    if let Some(engine) = t.engine.lock().expect("not poisoned").as_ref()
        && !engine.is_closed()
    {
        return Ok(engine.clone());
    }
    needs_no_sandbox(s, t)?;
    match s.runner.readiness(&t.manifest).1 {
        EnvStatus::Ready => {
            let engine = build_engine(s, t).await?;
            *t.engine.lock().expect("not poisoned") = Some(engine.clone());
            Ok(engine)
        }
        EnvStatus::Pending => {
            prepare_in_background(
                s,
                t.detail.owner.clone(),
                t.detail.name.clone(),
                t.detail.version.version,
            );
            Err(ServiceError::env_not_ready(
                "its environment is being built; try again shortly",
                None,
            ))
        }
        EnvStatus::Building => Err(ServiceError::env_not_ready(
            "its environment is being built; try again shortly",
            None,
        )),
        EnvStatus::Failed { reason } => Err(ServiceError::env_not_ready(
            "its environment failed to build",
            Some(reason),
        )),
    }
}

/// The version's bundle, unpacked (once) where its workers run.
async fn unpacked(s: &Service, t: &Target) -> Result<std::path::PathBuf> {
    let digest = &t.detail.version.digest;
    let dir = t.bundle.clone();
    if !dir.is_dir() {
        let archive = s.store.download(digest).await?;
        let runner = s.runner.clone();
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || runner.unpack(&digest, archive.path()))
            .await
            .map_err(|e| ServiceError::internal(e.to_string()))?
            .map_err(|e| ServiceError::internal(format!("unpacking the bundle: {e}")))?;
    }
    Ok(dir)
}

/// Builds a version's environment (or gets ONNX Runtime) and waits for it, starting no
/// worker: what an image build does ahead, so that its containers answer at once.
pub async fn build_environment(s: &Service, owner: &str, name: &str, version: i64) -> Result<()> {
    let t = target(s, owner, name, &version.to_string()).await?;
    unpacked(s, &t).await?;
    s.runner
        .build_environment(&t.manifest)
        .await
        .map_err(runner_error)
}

/// Unpacks the bundle if needed, builds the environment if needed, and gives the engine.
async fn build_engine(s: &Service, t: &Target) -> Result<Arc<dyn Engine>> {
    let dir = unpacked(s, t).await?;
    s.runner
        .engine(&t.key(), &t.manifest, &dir)
        .await
        .map_err(runner_error)
}

fn runner_error(e: feather_runner::RunnerError) -> ServiceError {
    match e {
        feather_runner::RunnerError::Env(env) => {
            ServiceError::env_not_ready("its environment failed to build", Some(env.to_string()))
        }
        feather_runner::RunnerError::NoSandbox(_) => sandbox_unavailable(e),
        feather_runner::RunnerError::OnnxRuntime(reason) => {
            ServiceError::env_not_ready("ONNX Runtime is unavailable", Some(reason))
        }
        feather_runner::RunnerError::Model(message) => {
            ServiceError::step_failed(format!("the model failed to load: {message}"), None)
        }
        other => ServiceError::internal(other.to_string()),
    }
}

fn sandbox_unavailable(e: feather_runner::RunnerError) -> ServiceError {
    ServiceError::new(Code::SandboxUnavailable, e.to_string())
}

/// The environment of a version: its status and build log.
pub async fn environment(
    s: &Service,
    owner: &str,
    name: &str,
    reference: &str,
    viewer: &Viewer,
) -> Result<views::Environment> {
    check_visible(s, owner, name, viewer).await?;
    let t = target(s, owner, name, reference).await?;
    needs_no_sandbox(s, &t)?;
    let (key, state) = s.runner.readiness(&t.manifest);
    let packages = match s.runner.packages(&t.manifest).await {
        Ok(p) => p,
        Err(e) => {
            // The status still answers; only the list is missing.
            tracing::warn!(env = %key, error = %e, "listing an environment's packages failed");
            None
        }
    };
    Ok(views::Environment {
        key,
        state,
        packages,
        log: may_read_logs(viewer, owner)
            .then(|| s.runner.readiness_log(&t.manifest))
            .flatten()
            .map(|log| shown_paths(&log, s.store.data())),
    })
}

/// Build logs name folders and programs of this machine: they are for the model's owner and
/// admins, not for everyone who may run the model.
fn may_read_logs(viewer: &Viewer, owner: &str) -> bool {
    viewer.admin || viewer.user.as_deref() == Some(owner)
}

/// A log with the data folder's paths relative to it and the server's home as `~`.
fn shown_paths(log: &str, data: &std::path::Path) -> String {
    let mut out = log.replace(&format!("{}/", data.display()), "");
    out = out.replace(&data.display().to_string(), ".");
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        out = out.replace(&format!("{}/", home.to_string_lossy()), "~/");
    }
    out
}

/// Checks answers against the components they answer: every problem, with `/inputs/<id>` paths.
fn check_inputs<'a>(components: &[Component], inputs: &'a Value) -> Result<&'a Map<String, Value>> {
    let Value::Object(map) = inputs else {
        return Err(ServiceError::invalid_inputs(vec![Problem::new(
            "/inputs",
            "expected an object of component id to value",
        )]));
    };
    let mut problems = Vec::new();
    for key in map.keys() {
        if !components.iter().any(|c| c.is_input() && &c.id == key) {
            problems.push(Problem::new(
                format!("/inputs/{key}"),
                "is not an input of this step",
            ));
        }
    }
    for c in components.iter().filter(|c| c.is_input()) {
        for p in c.check_value(map.get(&c.id)) {
            problems.push(Problem::new(
                format!("/inputs/{}{}", c.id, p.path),
                p.reason,
            ));
        }
    }
    if problems.is_empty() {
        Ok(map)
    } else {
        Err(ServiceError::invalid_inputs(problems))
    }
}

/// What a client sends to a step: the inputs, and the file parts of a multipart request.
#[derive(Debug, Default)]
pub struct StepRequest {
    pub inputs: Value,
    pub uploads: Vec<files::Upload>,
    /// The caller's address: without a token, the files it sends count against its quota.
    pub client: Option<std::net::IpAddr>,
}

/// What one executed step gives.
struct Executed {
    /// The inputs as its run records them (files as stored ids); only a run's step keeps them.
    inputs: Value,
    outputs: Vec<Value>,
    /// The state it leaves for the next step, stored with the step's record.
    state: Option<bytes::Bytes>,
}

/// Runs one step and counts it in the metrics, whatever its outcome.
#[allow(clippy::too_many_arguments)]
async fn execute(
    s: &Service,
    t: &Target,
    index: usize,
    components: &[Component],
    req: &StepRequest,
    state: Option<&str>,
    user: Option<&Actor>,
    keeper: files::Keeper<'_>,
) -> Result<Executed> {
    let started = Instant::now();
    let out = execute_step(s, t, index, components, req, state, user, keeper).await;
    count(s, t, index, started, out.as_ref().err());
    out
}

/// Counts a call of step `index` in the metrics, with its error if it failed.
fn count(s: &Service, t: &Target, index: usize, started: Instant, error: Option<&ServiceError>) {
    let d = &t.detail;
    s.metrics.step(
        format!("{}/{}", d.owner, d.name),
        d.version.version,
        &t.manifest.steps[index].name,
        started.elapsed(),
        error.map(|e| e.code),
    );
}

#[allow(clippy::too_many_arguments)]
async fn execute_step(
    s: &Service,
    t: &Target,
    index: usize,
    components: &[Component],
    req: &StepRequest,
    state: Option<&str>,
    user: Option<&Actor>,
    keeper: files::Keeper<'_>,
) -> Result<Executed> {
    let inputs = files::attach(components, &req.inputs, &req.uploads)?;
    let inputs = check_inputs(components, &inputs)?;
    let engine = ready_engine(s, t).await?;
    // Whose quota new files count against, worked out only when there are some.
    let from = || files::uploader(user, req.client);
    // The engine is ready, so the bundle is unpacked.
    let sources = files::Sources {
        uploads: &req.uploads,
        bundle: &t.bundle,
    };
    let resolved = files::resolve_inputs(s, components, inputs, sources, keeper, &from).await?;
    let recorded = match keeper {
        files::Keeper::Run(_) => resolved.stored.unwrap_or_else(|| resolved.wire.clone()),
        files::Keeper::Prediction => Value::Null,
    };
    let state = match state {
        Some(d) => Some(s.store.blobs.get_bytes(d).await?),
        None => None,
    };
    let step = &t.manifest.steps[index];
    let call = StepCall {
        step: index,
        name: step.name.clone(),
        inputs: resolved.wire,
        files: resolved.parts,
        streams: resolved.streams,
        // Step 1 answers the init the model declared itself.
        components: (index > 0)
            .then(|| serde_json::to_value(components).expect("components serialise")),
        state,
        timeout: s.runner.step_timeout(&t.manifest),
    };
    let out = engine
        .run(call)
        .await
        .map_err(|e| outcome::run_error(e, &step.name, s, t, user))?;
    let mut outputs = Value::Array(out.outputs);
    if !out.built {
        files::store_output_files(s, &mut outputs, &out.files, &out.spooled, keeper).await?;
    }
    let outputs = match outputs {
        Value::Array(a) => a,
        _ => unreachable!("an array above"),
    };
    // A worker's outputs are its code's word, checked here; an engine's own are built valid.
    let unchecked = if out.built { &[][..] } else { &outputs[..] };
    for (i, o) in unchecked.iter().enumerate() {
        Component::parse(o).map_err(|e| {
            ServiceError::step_failed(
                format!(
                    "step {:?} returned an invalid component #{i}: {}",
                    step.name, e.0[0]
                ),
                None,
            )
        })?;
    }
    Ok(Executed {
        inputs: recorded,
        outputs,
        state: out.state,
    })
}

fn next_step(t: &Target, index: usize, outputs: &[Value]) -> Option<Value> {
    (index + 1 < t.manifest.steps.len()).then(|| {
        Value::Array(
            outputs
                .iter()
                .filter(|o| Component::parse(o).is_ok_and(|c| c.is_input()))
                .cloned()
                .collect(),
        )
    })
}

fn view(t: &Target, run: &RunRecord) -> RunView {
    let steps = run
        .steps
        .iter()
        .map(|r| {
            let step = t.manifest.steps.get(r.index as usize);
            StepView {
                index: r.index,
                name: r.step.clone(),
                title: step.map(|s| s.title.clone()).unwrap_or_default(),
                inputs: r.inputs.clone(),
                outputs: r
                    .outputs
                    .as_ref()
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                error: r.error.clone(),
                created_at: r.created_at.clone(),
            }
        })
        .collect();
    let next = (run.status == RunStatus::AwaitingInput).then(|| {
        let step = &t.manifest.steps[run.next_step as usize];
        NextStep {
            index: run.next_step,
            name: step.name.clone(),
            title: step.title.clone(),
            description: step.description.clone(),
            components: run
                .awaiting
                .as_ref()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    });
    RunView {
        id: run.id.clone(),
        model: format!("{}/{}", run.owner, run.name),
        version: run.version,
        status: run.status,
        steps,
        next,
        created_at: run.created_at.clone(),
        updated_at: run.updated_at.clone(),
    }
}

/// Runs step 1 of a new run.
pub async fn start_run(
    s: &Service,
    owner: &str,
    name: &str,
    req: StepRequest,
    user: Option<&Actor>,
) -> Result<RunView> {
    let (name, reference) = split_ref(name);
    check_visible(s, owner, name, &viewer(user)).await?;
    let t = target(s, owner, name, reference).await?;
    let now = now();
    let run = RunRecord {
        id: new_id("r_"),
        owner: owner.to_owned(),
        name: name.to_owned(),
        version: t.detail.version.version,
        // Step 1 runs before the run is saved; its outcome sets this.
        status: RunStatus::Running,
        next_step: 0,
        awaiting: None,
        created_by: user.map(|u| u.name().to_owned()),
        created_at: now.clone(),
        updated_at: now,
        steps: Vec::new(),
    };
    let init = t.manifest.init.clone();
    advance_detached(s, t, run, init, req, None, user.cloned()).await
}

/// A claimed step of a run: only its holder records the step's outcome or gives it back.
struct Claim {
    run: String,
    token: String,
}

impl Claim {
    async fn take(s: &Service, t: &Target, run: &RunRecord) -> Result<Self> {
        // Held well past the longest the step may take, its worker's start and a wait in the
        // queue included: the holder always records the outcome (the step runs on whether
        // or not its caller waits), so a claim lapses only when its server died.
        let hold = 2 * (s.runner.step_timeout(&t.manifest) + s.runner.config.start_timeout);
        let expires = feather_store::accounts::unix_now() + hold.as_secs() as i64 + 60;
        match s
            .store
            .registry
            .claim_step(&run.id, run.next_step, expires)
            .await?
        {
            Some(token) => Ok(Self {
                run: run.id.clone(),
                token,
            }),
            None => Err(ServiceError::step_in_progress(&run.id)),
        }
    }

    async fn release(self, s: &Service) -> Result<()> {
        Ok(s.store
            .registry
            .release_step(&self.run, &self.token)
            .await?)
    }
}

/// Runs a run's step to its end and records it, whether or not the caller waits for it: a
/// client that goes away neither abandons a step its worker is running nor leaves its files
/// unowned. The caller gets the outcome if it is still there.
async fn advance_detached(
    s: &Service,
    t: Arc<Target>,
    mut run: RunRecord,
    components: Vec<Component>,
    req: StepRequest,
    state: Option<String>,
    user: Option<Actor>,
) -> Result<RunView> {
    let s = s.clone();
    tokio::spawn(async move {
        advance(
            &s,
            &t,
            &mut run,
            &components,
            &req,
            state.as_deref(),
            user.as_ref(),
        )
        .await
    })
    .await
    .map_err(|e| ServiceError::internal(format!("a step's task failed: {e}")))?
}

/// Answers the step a run waits for, and runs it.
pub async fn answer_run(
    s: &Service,
    id: &str,
    req: StepRequest,
    user: Option<&Actor>,
) -> Result<RunView> {
    let run = s.store.registry.run(id).await?;
    check_visible(s, &run.owner, &run.name, &viewer(user)).await?;
    let t = target(s, &run.owner, &run.name, &run.version.to_string()).await?;
    if run.status == RunStatus::Running {
        return Err(ServiceError::step_in_progress(id));
    }
    if run.status != RunStatus::AwaitingInput {
        return Err(ServiceError::conflict(format!(
            "run {id} is {} and takes no more answers",
            run.status.as_str()
        )));
    }
    let components: Vec<Component> = run
        .awaiting
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| Component::parse(c).ok()).collect())
        .unwrap_or_default();
    let state = run.steps.last().and_then(|s| s.state_digest.clone());
    advance_detached(s, t, run, components, req, state, user.cloned()).await
}

async fn advance(
    s: &Service,
    t: &Target,
    run: &mut RunRecord,
    components: &[Component],
    req: &StepRequest,
    state: Option<&str>,
    user: Option<&Actor>,
) -> Result<RunView> {
    let index = run.next_step as usize;
    // A new run is this caller's alone; a later step is claimed in the database first, once
    // the answers are known to be good, so that exactly one caller runs it.
    let claim = if index > 0 {
        let started = Instant::now();
        let taken = async {
            let inputs = files::attach(components, &req.inputs, &req.uploads)?;
            check_inputs(components, &inputs)?;
            ready_engine(s, t).await?;
            Claim::take(s, t, run).await
        }
        .await;
        match taken {
            Ok(claim) => Some(claim),
            Err(e) => {
                count(s, t, index, started, Some(&e));
                return Err(e);
            }
        }
    } else {
        None
    };
    // Bad answers change nothing: the person can correct them and send them again.
    let keeper = files::Keeper::Run(&run.id);
    let executed = match execute(s, t, index, components, req, state, user, keeper).await {
        Err(e) if e.is_callers() => {
            if let Some(c) = claim {
                c.release(s).await?;
            }
            return Err(e);
        }
        other => other,
    };
    let now = now();
    run.updated_at = now.clone();
    let state = match &executed {
        Ok(Executed { state: Some(b), .. }) => Some((feather_store::blobs::digest_bytes(b), b)),
        _ => None,
    };
    let record = match &executed {
        Ok(e) => {
            run.awaiting = next_step(t, index, &e.outputs);
            run.status = if run.awaiting.is_some() {
                RunStatus::AwaitingInput
            } else {
                RunStatus::Completed
            };
            run.next_step = index as i64 + run.awaiting.is_some() as i64;
            StepRecord {
                index: index as i64,
                step: t.manifest.steps[index].name.clone(),
                inputs: e.inputs.clone(),
                outputs: Some(Value::Array(e.outputs.clone())),
                error: None,
                state_digest: state.as_ref().map(|(d, _)| d.clone()),
                created_at: now,
            }
        }
        Err(e) => {
            run.status = RunStatus::Failed;
            run.awaiting = None;
            StepRecord {
                index: index as i64,
                step: t.manifest.steps[index].name.clone(),
                // The answers are not kept for a failed step: they may be large data: URLs.
                inputs: Value::Null,
                outputs: None,
                error: Some(json!({"code": e.code.as_str(), "message": e.message})),
                state_digest: None,
                created_at: now,
            }
        }
    };
    let token = claim.as_ref().map(|c| c.token.as_str());
    let save = s.store.registry.save_step(run, &record, token);
    match state {
        Some((digest, bytes)) => {
            s.store
                .claimed(&digest, async {
                    s.store.blobs.put_bytes(&digest, bytes.clone()).await?;
                    save.await
                })
                .await?
        }
        None => save.await?,
    }
    match executed {
        Ok(_) => Ok(view(t, &s.store.registry.run(&run.id).await?)),
        Err(e) => Err(e.with_run(&run.id)),
    }
}

/// A run as it stands.
pub async fn get_run(s: &Service, id: &str, viewer: &Viewer) -> Result<RunView> {
    let run = s.store.registry.run(id).await?;
    check_visible(s, &run.owner, &run.name, viewer).await?;
    let t = target(s, &run.owner, &run.name, &run.version.to_string()).await?;
    Ok(view(&t, &run))
}

/// One call to a one-step model: inputs in, outputs out, nothing kept but output files
/// (given back inline as `data:` URLs when asked).
pub async fn predict(
    s: &Service,
    owner: &str,
    name: &str,
    req: &StepRequest,
    user: Option<&Actor>,
    inline: bool,
) -> Result<Prediction> {
    let (name, reference) = split_ref(name);
    check_visible(s, owner, name, &viewer(user)).await?;
    let t = target(s, owner, name, reference).await?;
    if t.manifest.steps.len() != 1 {
        return Err(ServiceError::conflict(format!(
            "{owner}/{name} has {} steps; start a run with POST /api/v1/models/{owner}/{name}/runs",
            t.manifest.steps.len()
        )));
    }
    let keeper = files::Keeper::Prediction;
    let mut executed = execute(s, &t, 0, t.init(), req, None, user, keeper).await?;
    if inline {
        for o in &mut executed.outputs {
            files::inline_files(s, o).await?;
        }
    }
    Ok(Prediction {
        model: format!("{owner}/{name}"),
        version: t.detail.version.version,
        outputs: executed.outputs,
    })
}

/// The version a reference names (`name` may end in `@version` or `@alias`), parsed, for a
/// viewer who may see it.
pub async fn resolve(s: &Service, owner: &str, name: &str, viewer: &Viewer) -> Result<Arc<Target>> {
    let (name, reference) = split_ref(name);
    check_visible(s, owner, name, viewer).await?;
    target(s, owner, name, reference).await
}

/// A file of a version's bundle, by its relative path: its bytes and media type.
pub async fn bundle_file(
    s: &Service,
    owner: &str,
    name: &str,
    reference: &str,
    path: &str,
    viewer: &Viewer,
) -> Result<(Vec<u8>, String)> {
    check_visible(s, owner, name, viewer).await?;
    let t = target(s, owner, name, reference).await?;
    let missing = || {
        ServiceError::not_found(format!(
            "{path} is not a file of {owner}/{name}@{reference}"
        ))
    };
    let dir = unpacked(s, &t).await?;
    let file = files::in_bundle(&dir, path).await.ok_or_else(missing)?;
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    Ok((bytes, files::guess_type(Some(path))))
}
