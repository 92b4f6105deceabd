// Service manager notices through libsystemd's sd_notify(), which is a no-op without
// NOTIFY_SOCKET; libsystemd is optional at build time (see the top-level CMakeLists.txt).
#include "nsq/base/service_notify.h"

#ifdef NSQ_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace nsq {

namespace {

bool notify(const char* state) {
#ifdef NSQ_HAVE_SYSTEMD
  return sd_notify(0, state) > 0;
#else
  (void)state;
  return false;
#endif
}

}  // namespace

bool notifyReady() { return notify("READY=1"); }
bool notifyStopping() { return notify("STOPPING=1"); }

bool serviceNotifySupported() {
#ifdef NSQ_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

}  // namespace nsq
