#pragma once
// NSQ_ASAN is defined when this translation unit is built with AddressSanitizer. GCC says so
// with __SANITIZE_ADDRESS__, clang++ (14) only through __has_feature. Code that must behave
// differently under ASan (the body pool hands out malloc blocks so the sanitizer sees each
// one; tests skip figures ASan's allocator zeroes) asks this one place.
#if defined(__SANITIZE_ADDRESS__)
#define NSQ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NSQ_ASAN 1
#endif
#endif
