//! An AWS call's answer as the registry steps use it: "not found" as `None`, any other failure told as
//! [`call_failed`] tells it (the `AccessDenied` doctor's explanation, or the service's own error).

use anyhow::Result;
use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use super::call_failed;

/// A call's answer, with the service's "not found" (as `not_found` tells it) as `None`.
pub fn absent_if<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    not_found: fn(&E) -> bool,
) -> Result<Option<T>, SdkError<E, R>> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.as_service_error().is_some_and(not_found) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A read of a setting: "not found" is `None`, any other error is told as [`call_failed`] tells it.
pub fn read<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    not_found: fn(&E) -> bool,
    action: &str,
    arn: &str,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    absent_if(result, not_found).map_err(|e| call_failed(&e, action, arn))
}

/// The answer of a call, or its error as [`call_failed`] tells it.
pub fn answer<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    action: &str,
    arn: &str,
) -> Result<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    result.map_err(|e| call_failed(&e, action, arn))
}
