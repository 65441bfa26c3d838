use feather_store::accounts::unix_now;
use feather_store::{Registry, RunRecord, RunStatus, StepRecord, StoreError, new_id, now};
use serde_json::json;

use crate::err;

/// A two-step run whose first step has run: it waits for step 1.
pub async fn started(r: &dyn Registry) -> RunRecord {
    let at = now();
    let run = RunRecord {
        id: new_id("r_"),
        owner: "alice".into(),
        name: "review".into(),
        version: 1,
        status: RunStatus::AwaitingInput,
        next_step: 1,
        awaiting: Some(json!([{"type": "text", "id": "answer"}])),
        created_by: Some("bob".into()),
        created_at: at.clone(),
        updated_at: at,
        steps: Vec::new(),
    };
    r.save_step(&run, &step(0, Some("sha256:s0")), None)
        .await
        .unwrap();
    run
}

pub fn step(index: i64, state: Option<&str>) -> StepRecord {
    StepRecord {
        index,
        step: format!("step{index}"),
        inputs: json!({"n": index}),
        outputs: Some(json!([{"type": "text", "value": "ok"}])),
        error: None,
        state_digest: state.map(Into::into),
        created_at: now(),
    }
}

pub async fn exactly_one_claim_wins_and_only_its_holder_records_the_step(r: &dyn Registry) {
    let mut run = started(r).await;
    let later = unix_now() + 600;
    let first = r
        .claim_step(&run.id, 1, later)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(r.claim_step(&run.id, 1, later).await.unwrap(), None);
    assert_eq!(r.run(&run.id).await.unwrap().status, RunStatus::Running);
    assert_eq!(
        r.claim_step(&run.id, 2, later).await.unwrap(),
        None,
        "not the step it waits for"
    );

    // Given back (the answers were refused), the step may be claimed again.
    r.release_step(&run.id, "c_not_the_token").await.unwrap();
    assert_eq!(r.run(&run.id).await.unwrap().status, RunStatus::Running);
    r.release_step(&run.id, &first).await.unwrap();
    assert_eq!(
        r.run(&run.id).await.unwrap().status,
        RunStatus::AwaitingInput
    );
    let second = r
        .claim_step(&run.id, 1, later)
        .await
        .unwrap()
        .expect("claimed again");

    run.status = RunStatus::Completed;
    run.next_step = 1;
    run.awaiting = None;
    run.updated_at = now();
    let refused = r.save_step(&run, &step(1, None), Some(&first)).await;
    assert!(matches!(err(refused), StoreError::Conflict(_)));
    r.save_step(&run, &step(1, None), Some(&second))
        .await
        .unwrap();

    let saved = r.run(&run.id).await.unwrap();
    assert_eq!((saved.status, saved.awaiting), (RunStatus::Completed, None));
    assert_eq!(saved.created_by.as_deref(), Some("bob"));
    let steps: Vec<_> = saved
        .steps
        .iter()
        .map(|s| (s.index, s.state_digest.clone()))
        .collect();
    assert_eq!(steps, [(0, Some("sha256:s0".into())), (1, None)]);
    assert_eq!(saved.steps[0].inputs, json!({"n": 0}));
    assert_eq!(
        r.claim_step(&run.id, 1, later).await.unwrap(),
        None,
        "completed"
    );
    assert!(matches!(
        err(r.run("r_none").await),
        StoreError::NotFound(_)
    ));
}

pub async fn a_lapsed_claim_is_taken_over_and_its_first_holder_records_nothing(r: &dyn Registry) {
    let mut run = started(r).await;
    let lapsed = r
        .claim_step(&run.id, 1, unix_now() - 1)
        .await
        .unwrap()
        .expect("claimed");
    let taken = r
        .claim_step(&run.id, 1, unix_now() + 600)
        .await
        .unwrap()
        .expect("taken over");
    run.status = RunStatus::Completed;
    run.awaiting = None;
    let late = r.save_step(&run, &step(1, None), Some(&lapsed)).await;
    assert!(matches!(err(late), StoreError::Conflict(_)));
    assert_eq!(
        r.run(&run.id).await.unwrap().steps.len(),
        1,
        "nothing of the late outcome kept"
    );
    r.save_step(&run, &step(1, None), Some(&taken))
        .await
        .unwrap();
    assert_eq!(r.run(&run.id).await.unwrap().steps.len(), 2);
}
