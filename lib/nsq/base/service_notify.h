#pragma once
// Readiness and stop notices to a supervising service manager: systemd's sd_notify protocol, for
// units of Type=notify. A daemon calls notifyReady() once its listeners accept connections and
// notifyStopping() when a graceful stop begins, so `systemctl start` returns only when clients
// can connect and dependent units start after that.
//
// Without NOTIFY_SOCKET in the environment (not run by systemd), or in a build without
// libsystemd (NSQ_HAVE_SYSTEMD unset), every call does nothing. Never throws; main thread.
namespace nsq {

// "READY=1". Returns true when a service manager was told.
bool notifyReady();
// "STOPPING=1". Returns true when a service manager was told.
bool notifyStopping();
// True in a build with libsystemd.
bool serviceNotifySupported();

}  // namespace nsq
