fn main() -> std::process::ExitCode {
    ecr_push_action::main()
}
