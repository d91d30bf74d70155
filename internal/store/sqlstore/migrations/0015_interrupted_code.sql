-- Card runs ended interrupted carry an error code, as every failed run
-- does ("internal": their server failed); earlier ones had none, which
-- hid their message and remedy where a run's error is shown by its code.
UPDATE runs SET error_code = 'internal' WHERE status = 'interrupted' AND error_code = '';
