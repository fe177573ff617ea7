package vmmalloc
