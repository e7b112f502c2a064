/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef HEAPSNAP_RECORD_H
#define HEAPSNAP_RECORD_H

int hs_cmd_record(int argc, char **argv);

#endif
