module gosym.local/gobench

go 1.21
