#pragma once
// The web UI's files, built into the binary (cmake/embed_assets.cmake writes assets_data.cpp
// from daemons/nsqadmin/assets/ and Debian's Chart.js at build time), so one nsqadmin binary
// serves the whole console with no files beside it and no network.
#include <cstddef>
#include <string_view>

namespace nsq::admin {

struct Asset {
  const char* name;  // "index.html", "app.js", "chart.min.js"
  const char* data;
  std::size_t size;
  const char* contentType;
};

// nullptr for an unknown name.
const Asset* findAsset(std::string_view name);

}  // namespace nsq::admin
