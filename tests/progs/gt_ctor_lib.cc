// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A C++ library whose static constructor allocates, at start-up. */
void *volatile lib_keep;

__attribute__((noinline)) void lib_ctor_site()
{
	lib_keep = new char[7002];
}

namespace {
struct Holder {
	Holder()
	{
		lib_ctor_site();
		lib_keep = lib_keep; /* no tail call: the frame stays */
	}
} holder;
} // namespace
