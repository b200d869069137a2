"""Fault campaign (kills, corrupt inputs, hostile weight files, full disks): shared fixtures.

Every test here runs on one CPU thread; children get OMP_NUM_THREADS=1 (see ``_faults.py``).
"""
import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
