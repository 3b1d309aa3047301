//! `dualstack` and `fips`: which of each registry's hosts is pushed to (and which AWS API endpoints
//! are called), refused where AWS documents no registry host of that form. Their problems are told
//! here too, each with its code. The hosts themselves are [`crate::partition::registry_host`]'s.

use super::problem::{Checked, Problem, problem};
use crate::partition::{HostForm, registry_host};

/// Where AWS documents dual-stack and FIPS registry hosts, for messages.
pub(super) const FORMS: &str = "FIPS hosts (`<account>.dkr.ecr-fips.<region>.amazonaws.com`) exist \
    in us-east-1, us-east-2, us-west-1, us-west-2 and GovCloud only, dual-stack hosts \
    (`<account>.dkr-ecr.<region>.on.aws`) in `aws` and `aws-us-gov` only (China's \
    `<account>.dkr.ecr.<region>.on.amazonwebservices.com.cn`, which AWS's credential helper uses, \
    is undocumented: this action does not guess).";

/// `form` (the inputs' or the standard variables') is refused where AWS documents no registry host of
/// that form in one of `regions` (the destinations given as regions: one given as a host was checked
/// as it was read), and with ECR Public. Checked before any AWS call.
pub fn host_form_rule<'a>(
    regions: impl IntoIterator<Item = &'a str>,
    form: HostForm,
    public: bool,
) -> Checked<()> {
    if form == HostForm::default() {
        return Ok(());
    }
    if public {
        return Err(with_public(if form.fips { "fips" } else { "dualstack" }));
    }
    let documented = |region: &str, form| registry_host("000000000000", region, form).is_some();
    for region in regions {
        if documented(region, form) {
            continue;
        }
        let fips_alone = HostForm {
            dual_stack: false,
            fips: form.fips,
        };
        let fips = form.fips && !documented(region, fips_alone);
        return Err(no_registry_host(fips, region));
    }
    Ok(())
}

/// `fips` (the FIPS host is missing) or `dualstack` on where AWS documents no such registry host.
fn no_registry_host(fips: bool, region: &str) -> Problem {
    let (input, code, form) = if fips {
        ("fips", "E-INPUT-FIPS-UNAVAILABLE", "FIPS")
    } else {
        ("dualstack", "E-INPUT-DUALSTACK-UNAVAILABLE", "dual-stack")
    };
    let text = format!("is on, but AWS documents no {form} registry host in `{region}`. {FORMS}");
    problem(input, code, text)
}

fn with_public(input: &'static str) -> Problem {
    let text = "cannot be combined with `registry-type: public`: ECR Public has no FIPS registry \
                host, and this action does not push to its dual-stack host (`ecr-public.aws.com`).";
    problem(input, "E-INPUT-PUBLIC-ENDPOINTS", text)
}
